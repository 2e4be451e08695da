//! The heartbeat that chapter 7's listings run next to the work they test
//! (`blocking_on_loop`, `same_core_stall`, `cpu_pools`): a task that should
//! tick every few milliseconds, and records how late each tick came.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

// ANCHOR: heartbeat
/// A task that sleeps `tick` again and again, and records the gap before each
/// tick. While its thread is free, every gap is about one tick; a gap much
/// longer than that is a time when something else held the thread.
pub struct Heartbeat {
    done: Arc<AtomicBool>,
    beats: tokio::task::JoinHandle<Vec<f64>>,
}

impl Heartbeat {
    /// Spawns the heartbeat on the runtime this is called from.
    pub fn start(tick: Duration) -> Heartbeat {
        let done = Arc::new(AtomicBool::new(false));
        let stop = done.clone();
        let beats = tokio::spawn(async move {
            let (mut last, mut gaps) = (Instant::now(), Vec::new());
            while !stop.load(Ordering::Relaxed) {
                tokio::time::sleep(tick).await;
                gaps.push(support::timing::ms(last.elapsed()));
                last = Instant::now();
            }
            gaps
        });
        Heartbeat { done, beats }
    }

    /// Stops the heartbeat after its next tick; returns the gaps, in milliseconds.
    pub async fn stop(self) -> Vec<f64> {
        self.done.store(true, Ordering::Relaxed);
        self.beats.await.expect("the heartbeat ends")
    }
}
// ANCHOR_END: heartbeat
