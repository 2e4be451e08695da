//! A panic caught and shown: the listings that demonstrate a panic (a
//! runtime missing, a nested `block_on`) print its message and go on.

use std::panic::UnwindSafe;

/// Runs `f`, returning its result or its panic's message. The default hook,
/// which would print the message too, is silenced meanwhile: the listing
/// prints it once, in its own words.
///
/// ```
/// let caught = support::panic::catch_panic(|| -> u32 { panic!("no reactor running") });
/// assert_eq!(caught, Err("no reactor running".to_string()));
/// assert_eq!(support::panic::catch_panic(|| 7), Ok(7));
/// ```
pub fn catch_panic<T>(f: impl FnOnce() -> T + UnwindSafe) -> Result<T, String> {
    let hook = std::panic::take_hook();
    std::panic::set_hook(Box::new(|_| {}));
    let result = std::panic::catch_unwind(f);
    std::panic::set_hook(hook);
    result.map_err(|panic| match panic.downcast::<String>() {
        Ok(message) => *message,
        Err(panic) => panic.downcast_ref::<&str>().map_or("?".into(), |s| s.to_string()),
    })
}
