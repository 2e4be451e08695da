//! A simultaneous exhibition, scheduled by hand: one master, many boards,
//! in story seconds, with no clock and no sleeping.

/// How an exhibition went, in story seconds: when it ended (with the last
/// reply), and how much of that time the master was not thinking.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Exhibition {
    pub total_s: u64,
    pub master_idle_s: u64,
}

/// One game after another: at each board, `moves` times, the master thinks
/// `master_s` and then waits while the opponent thinks `opponent_s`.
pub fn one_after_another(boards: u64, moves: u64, master_s: u64, opponent_s: u64) -> Exhibition {
    let total_s = boards * moves * (master_s + opponent_s);
    Exhibition { total_s, master_idle_s: total_s - boards * moves * master_s }
}

/// Board to board: the master visits boards 0, 1, ..., `boards - 1` in turn,
/// round after round, `moves` rounds. At each board he waits until that
/// opponent's reply is ready, if it is not yet, then thinks `master_s`;
/// the opponent's reply is ready `opponent_s` after that. Walking between
/// boards takes no time. The exhibition ends with the last reply.
pub fn board_to_board(boards: u64, moves: u64, master_s: u64, opponent_s: u64) -> Exhibition {
    let mut now = 0;
    // When each board's reply is ready: at the start, every board is.
    let mut ready = vec![0; boards as usize];
    for _round in 0..moves {
        for reply in ready.iter_mut() {
            now = now.max(*reply); // Wait for the reply, if it is not there yet.
            now += master_s;
            *reply = now + opponent_s;
        }
    }
    let total_s = ready.into_iter().max().unwrap_or(0);
    Exhibition { total_s, master_idle_s: total_s - boards * moves * master_s }
}
