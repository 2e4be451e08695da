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
#[allow(unused_variables)]
pub fn one_after_another(boards: u64, moves: u64, master_s: u64, opponent_s: u64) -> Exhibition {
    todo!("every move of both sides, one after another")
}

/// Board to board: the master visits boards 0, 1, ..., `boards - 1` in turn,
/// round after round, `moves` rounds. At each board he waits until that
/// opponent's reply is ready, if it is not yet, then thinks `master_s`;
/// the opponent's reply is ready `opponent_s` after that. Walking between
/// boards takes no time. The exhibition ends with the last reply.
#[allow(unused_variables)]
pub fn board_to_board(boards: u64, moves: u64, master_s: u64, opponent_s: u64) -> Exhibition {
    todo!("keep the time each board's reply is ready, and walk the boards round after round")
}
