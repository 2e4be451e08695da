//! 24 boards played one game after another take about 12 story hours; board to board, about 1.
//!
//!     cargo run --release -p ch08 --bin chess_exhibition -- --opponents 24 --moves 30 --story-second-us 100

use std::process::ExitCode;
use std::time::{Duration, Instant};

use support::report::{Table, figure, verdict};

/// Simulate a simultaneous chess exhibition on a scaled-down clock.
#[derive(clap::Parser)]
pub struct Args {
    /// How many opponents, one board each.
    #[arg(long, default_value_t = 24, value_parser = clap::value_parser!(u32).range(1..=100))]
    opponents: u32,
    /// Moves each side makes in every game.
    #[arg(long, default_value_t = 30, value_parser = clap::value_parser!(u32).range(1..=100))]
    moves: u32,
    /// Story seconds the master thinks per move.
    #[arg(long, default_value_t = 5, value_parser = clap::value_parser!(u32).range(1..=600))]
    master_s: u32,
    /// Story seconds an opponent thinks per move.
    #[arg(long, default_value_t = 55, value_parser = clap::value_parser!(u32).range(1..=600))]
    opponent_s: u32,
    /// Real microseconds per story second: 100 plays a story hour in 0.36 s.
    #[arg(long, default_value_t = 100, value_parser = clap::value_parser!(u64).range(20..=10_000))]
    story_second_us: u64,
}

// ANCHOR: players
/// The master thinks about a move: work that holds the thread it runs on,
/// as a CPU-bound job does. (A spin until a deadline, so that the story's
/// clock holds however busy the machine is.)
fn master_moves(think: Duration) {
    let until = Instant::now() + think;
    while Instant::now() < until {
        std::hint::spin_loop();
    }
}

/// One game after another: the master waits at each board while the
/// opponent thinks, as a blocking program waits for each reply.
fn one_game_after_another(opponents: u32, moves: u32, master: Duration, opponent: Duration) {
    for _board in 0..opponents {
        for _move in 0..moves {
            master_moves(master);
            std::thread::sleep(opponent); // The opponent thinks; the master stands there.
        }
    }
}

/// One board of the exhibition, as a task. The master's thinking holds the
/// one thread, so he is at one board at a time; an opponent's thinking is a
/// wait, during which the master moves on to the other boards.
async fn board(moves: u32, master: Duration, opponent: Duration) {
    for _move in 0..moves {
        master_moves(master);
        tokio::time::sleep(opponent).await; // The master walks to the next board.
    }
}

/// Board to board: every board a task, all on one thread, as one master.
fn board_to_board(opponents: u32, moves: u32, master: Duration, opponent: Duration) {
    let runtime = tokio::runtime::Builder::new_current_thread().enable_time().build();
    runtime.expect("a runtime").block_on(async {
        let boards: tokio::task::JoinSet<()> =
            (0..opponents).map(|_| board(moves, master, opponent)).collect();
        boards.join_all().await;
    });
}
// ANCHOR_END: players

pub fn run(args: Args) -> ExitCode {
    let Args { opponents: n, moves: m, master_s, opponent_s, story_second_us } = args;
    let scale = Duration::from_micros(story_second_us);
    let (master, opponent) = (scale * master_s, scale * opponent_s);
    let story_hours = |real: Duration| real.as_secs_f64() / scale.as_secs_f64() / 3600.0;
    let ((), one_by_one) = support::timing::time(|| one_game_after_another(n, m, master, opponent));
    let ((), walking) = support::timing::time(|| board_to_board(n, m, master, opponent));

    // ANCHOR: story
    // What the story predicts, in story seconds. One game after another: every move of both
    // sides, in turn. Board to board: the master's own thinking on every board, plus the last
    // reply; unless one board's game takes longer, as it does with few boards: the last board
    // starts after the master's first move at every other one, then waits for every reply.
    let (think, reply) = (master_s as f64, opponent_s as f64);
    let (boards, moves) = (n as f64, m as f64);
    let sequential_story = boards * moves * (think + reply);
    let last_board = (boards - 1.0) * think + moves * (think + reply);
    let interleaved_story = (boards * moves * think + reply).max(last_board);
    // ANCHOR_END: story

    let sequential = figure("sequential_h", story_hours(one_by_one), "h");
    let interleaved = figure("interleaved_h", story_hours(walking), "h");
    let sequential_story = figure("sequential_story_h", sequential_story / 3600.0, "h");
    let interleaved_story = figure("interleaved_story_h", interleaved_story / 3600.0, "h");
    let mut table = Table::new(["the master plays", "measured (story h)", "predicted (story h)"]);
    table.cells(&format!("one game after another|{sequential:#.2}|{sequential_story:#.2}"));
    table.cells(&format!("board to board|{interleaved:#.2}|{interleaved_story:#.2}"));
    table.print();
    println!("{n} boards, {m} moves each; master {master_s}s a move, opponent {opponent_s}s");
    println!("1 story second = {story_second_us} µs");
    let ratio = figure("speedup", sequential.value / interleaved.value, "x");
    let predicted_ratio = sequential_story.value / interleaved_story.value;

    // Neither way can beat the story's arithmetic. Other programs can only slow the simulation
    // down, board to board the most: a moment its one thread waits for a core delays every board.
    // So, on a clock that never runs fast, it must win by a quarter of the story's 12 to 1.
    verdict(
        "moving from board to board cuts the exhibition from the sum of all the games to the master's own thinking",
        sequential.value >= 0.95 * sequential_story.value
            && interleaved.value >= 0.95 * interleaved_story.value
            && ratio.value >= predicted_ratio / 4.0,
        &format!("{ratio:.1} faster board to board; the story predicts {predicted_ratio:.1}x"),
    )
}

fn main() -> ExitCode {
    run(support::cli::parse())
}
