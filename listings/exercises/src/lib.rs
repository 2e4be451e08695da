//! The workbook's exercises. Each one is a folder under `src/chNN/` with a
//! `starter.rs` and a `solution.rs` of the same signatures and one `tests.rs`
//! that both must face:
//!
//! ```console
//! cargo test -p exercises                      # the solutions: all pass
//! cargo test -p exercises --features starters  # the starters: all fail
//! ```
//!
//! Each exercise's tests sit in a module named after it, so
//! `cargo test -p exercises -- count_the_blocks` runs one exercise.

/// Chapter 1: blocking vs non-blocking I/O.
pub mod ch01 {
    #[cfg_attr(feature = "starters", path = "count_the_blocks/starter.rs")]
    #[cfg_attr(not(feature = "starters"), path = "count_the_blocks/solution.rs")]
    pub mod count_the_blocks;
    #[cfg(test)]
    #[path = "count_the_blocks/tests.rs"]
    mod count_the_blocks_tests;

    #[cfg_attr(feature = "starters", path = "first_to_answer/starter.rs")]
    #[cfg_attr(not(feature = "starters"), path = "first_to_answer/solution.rs")]
    pub mod first_to_answer;
    #[cfg(test)]
    #[path = "first_to_answer/tests.rs"]
    mod first_to_answer_tests;
}

/// Chapter 5: coroutines.
pub mod ch05 {
    #[cfg_attr(feature = "starters", path = "countdown_future/starter.rs")]
    #[cfg_attr(not(feature = "starters"), path = "countdown_future/solution.rs")]
    pub mod countdown_future;
    #[cfg(test)]
    #[path = "countdown_future/tests.rs"]
    mod countdown_future_tests;

    #[cfg_attr(feature = "starters", path = "candle_builder/starter.rs")]
    #[cfg_attr(not(feature = "starters"), path = "candle_builder/solution.rs")]
    pub mod candle_builder;
    #[cfg(test)]
    #[path = "candle_builder/tests.rs"]
    mod candle_builder_tests;

    #[cfg_attr(feature = "starters", path = "pin_and_poll/starter.rs")]
    #[cfg_attr(not(feature = "starters"), path = "pin_and_poll/solution.rs")]
    pub mod pin_and_poll;
    #[cfg(test)]
    #[path = "pin_and_poll/tests.rs"]
    mod pin_and_poll_tests;
}

/// Chapter 2: the GIL, and its analogue in Rust.
pub mod ch02 {
    #[cfg_attr(feature = "starters", path = "hand_over_the_lock/starter.rs")]
    #[cfg_attr(not(feature = "starters"), path = "hand_over_the_lock/solution.rs")]
    pub mod hand_over_the_lock;
    #[cfg(test)]
    #[path = "hand_over_the_lock/tests.rs"]
    mod hand_over_the_lock_tests;

    #[cfg_attr(feature = "starters", path = "shard_the_lock/starter.rs")]
    #[cfg_attr(not(feature = "starters"), path = "shard_the_lock/solution.rs")]
    pub mod shard_the_lock;
    #[cfg(test)]
    #[path = "shard_the_lock/tests.rs"]
    mod shard_the_lock_tests;
}

/// Chapter 6: the event loop.
pub mod ch06 {
    #[cfg_attr(feature = "starters", path = "timer_heap/starter.rs")]
    #[cfg_attr(not(feature = "starters"), path = "timer_heap/solution.rs")]
    pub mod timer_heap;
    #[cfg(test)]
    #[path = "timer_heap/tests.rs"]
    mod timer_heap_tests;

    #[cfg_attr(feature = "starters", path = "park_and_wake/starter.rs")]
    #[cfg_attr(not(feature = "starters"), path = "park_and_wake/solution.rs")]
    pub mod park_and_wake;
    #[cfg(test)]
    #[path = "park_and_wake/tests.rs"]
    mod park_and_wake_tests;

    #[cfg_attr(feature = "starters", path = "cancel_safe_lines/starter.rs")]
    #[cfg_attr(not(feature = "starters"), path = "cancel_safe_lines/solution.rs")]
    pub mod cancel_safe_lines;
    #[cfg(test)]
    #[path = "cancel_safe_lines/tests.rs"]
    mod cancel_safe_lines_tests;
}

/// Chapter 4: processes.
pub mod ch04 {
    #[cfg_attr(feature = "starters", path = "map_in_processes/starter.rs")]
    #[cfg_attr(not(feature = "starters"), path = "map_in_processes/solution.rs")]
    pub mod map_in_processes;
    #[cfg(test)]
    #[path = "map_in_processes/tests.rs"]
    mod map_in_processes_tests;

    #[cfg_attr(feature = "starters", path = "supervise/starter.rs")]
    #[cfg_attr(not(feature = "starters"), path = "supervise/solution.rs")]
    pub mod supervise;
    #[cfg(test)]
    #[path = "supervise/tests.rs"]
    mod supervise_tests;
}

/// Chapter 3: threads.
pub mod ch03 {
    #[cfg_attr(feature = "starters", path = "ordered_pool/starter.rs")]
    #[cfg_attr(not(feature = "starters"), path = "ordered_pool/solution.rs")]
    pub mod ordered_pool;
    #[cfg(test)]
    #[path = "ordered_pool/tests.rs"]
    mod ordered_pool_tests;

    #[cfg_attr(feature = "starters", path = "first_panic/starter.rs")]
    #[cfg_attr(not(feature = "starters"), path = "first_panic/solution.rs")]
    pub mod first_panic;
    #[cfg(test)]
    #[path = "first_panic/tests.rs"]
    mod first_panic_tests;

    #[cfg_attr(feature = "starters", path = "counters_apart/starter.rs")]
    #[cfg_attr(not(feature = "starters"), path = "counters_apart/solution.rs")]
    pub mod counters_apart;
    #[cfg(test)]
    #[path = "counters_apart/tests.rs"]
    mod counters_apart_tests;
}

/// Chapter 8: choosing a model.
pub mod ch08 {
    #[cfg_attr(feature = "starters", path = "pick_a_model/starter.rs")]
    #[cfg_attr(not(feature = "starters"), path = "pick_a_model/solution.rs")]
    pub mod pick_a_model;
    #[cfg(test)]
    #[path = "pick_a_model/tests.rs"]
    mod pick_a_model_tests;

    #[cfg_attr(feature = "starters", path = "exhibition_schedule/starter.rs")]
    #[cfg_attr(not(feature = "starters"), path = "exhibition_schedule/solution.rs")]
    pub mod exhibition_schedule;
    #[cfg(test)]
    #[path = "exhibition_schedule/tests.rs"]
    mod exhibition_schedule_tests;
}

/// Chapter 7: mixing sync and async, the pitfalls.
pub mod ch07 {
    #[cfg_attr(feature = "starters", path = "poll_watchdog/starter.rs")]
    #[cfg_attr(not(feature = "starters"), path = "poll_watchdog/solution.rs")]
    pub mod poll_watchdog;
    #[cfg(test)]
    #[path = "poll_watchdog/tests.rs"]
    mod poll_watchdog_tests;

    #[cfg_attr(feature = "starters", path = "resource_actor/starter.rs")]
    #[cfg_attr(not(feature = "starters"), path = "resource_actor/solution.rs")]
    pub mod resource_actor;
    #[cfg(test)]
    #[path = "resource_actor/tests.rs"]
    mod resource_actor_tests;

    #[cfg_attr(feature = "starters", path = "task_outcomes/starter.rs")]
    #[cfg_attr(not(feature = "starters"), path = "task_outcomes/solution.rs")]
    pub mod task_outcomes;
    #[cfg(test)]
    #[path = "task_outcomes/tests.rs"]
    mod task_outcomes_tests;
}

/// Chapter 9: beyond one machine, a job queue on Redis.
pub mod ch09 {
    #[cfg_attr(feature = "starters", path = "reap_silent_workers/starter.rs")]
    #[cfg_attr(not(feature = "starters"), path = "reap_silent_workers/solution.rs")]
    pub mod reap_silent_workers;
    #[cfg(test)]
    #[path = "reap_silent_workers/tests.rs"]
    mod reap_silent_workers_tests;

    #[cfg_attr(feature = "starters", path = "dead_letter/starter.rs")]
    #[cfg_attr(not(feature = "starters"), path = "dead_letter/solution.rs")]
    pub mod dead_letter;
    #[cfg(test)]
    #[path = "dead_letter/tests.rs"]
    mod dead_letter_tests;
}
