use crate::ch08::exhibition_schedule::{Exhibition, board_to_board, one_after_another};

/// Checks both schedules of one exhibition: (total, master idle) each.
fn check(setup: [u64; 4], sequential: (u64, u64), interleaved: (u64, u64)) {
    let [boards, moves, master_s, opponent_s] = setup;
    let exhibition = |(total_s, master_idle_s)| Exhibition { total_s, master_idle_s };
    assert_eq!(
        one_after_another(boards, moves, master_s, opponent_s),
        exhibition(sequential),
        "one game after another, {setup:?}"
    );
    assert_eq!(
        board_to_board(boards, moves, master_s, opponent_s),
        exhibition(interleaved),
        "board to board, {setup:?}"
    );
}

#[test]
fn the_story_twelve_hours_or_one() {
    // 24 boards, 30 moves, 5 s and 55 s: going round, the master never waits
    // for a reply; only the last reply comes 55 s after his last move.
    check([24, 30, 5, 55], (43_200, 39_600), (3_655, 55));
}

#[test]
fn one_board_is_the_same_either_way() {
    check([1, 30, 5, 55], (1_800, 1_650), (1_800, 1_650));
}

#[test]
fn with_few_boards_the_master_waits_for_replies() {
    // Two boards: he is back at the first board 10 s after he left it, but
    // the reply takes 55 s.
    check([2, 3, 5, 55], (360, 330), (185, 155));
}

#[test]
fn when_the_master_is_slower_he_never_waits() {
    check([3, 2, 10, 5], (90, 30), (65, 5));
}

#[test]
fn no_moves_take_no_time() {
    check([5, 0, 5, 55], (0, 0), (0, 0));
}
