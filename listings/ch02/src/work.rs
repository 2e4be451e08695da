//! The chapter's stand-in for interpreted work: plain arithmetic, counted
//! in units of a thousand steps.

use std::time::Duration;

use support::timing::thread_cpu_time;

/// `steps` rounds of a xorshift generator, a few nanoseconds each, like
/// simple bytecodes. Every round depends on the previous one, so the
/// compiler can neither skip nor overlap them.
pub fn run_bytecodes(steps: u64, seed: u64) -> u64 {
    let mut x = seed | 1;
    for _ in 0..steps {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
    }
    x
}

/// How many units of 1000 steps take `cpu` of CPU time on this machine.
/// It times them on this thread's CPU clock, which other programs on a
/// busy machine cannot inflate the way they inflate the wall clock.
pub fn units_for(cpu: Duration) -> u64 {
    // Read the clock every 100 units only: reading it costs about as much
    // as a unit, and would be counted as work.
    let (started, mut units) = (thread_cpu_time(), 0);
    while thread_cpu_time() - started < Duration::from_millis(20) {
        for _ in 0..100 {
            std::hint::black_box(run_bytecodes(1000, units));
            units += 1;
        }
    }
    (units as f64 * cpu.as_secs_f64() / 0.020) as u64
}
