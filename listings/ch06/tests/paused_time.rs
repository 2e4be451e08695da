//! Paused time: in a test, tokio's clock stands still and jumps to the next timer whenever every
//! task waits, so 10,000 tasks sleep 2 to 4 s of virtual time in milliseconds of real time. What is
//! not tokio's timer (a blocking sleep, real I/O) is not paused.
//!
//!     cargo test -p ch06 --test paused_time

use std::io::Write;
use std::time::Duration;

use tokio::io::AsyncReadExt;

/// The chapter's sleeps: `count` of them from `min_ms` to `max_ms`, drawn by
/// xorshift64 from the fixed seed the listings use.
fn sleeps_ms(count: usize, min_ms: u64, max_ms: u64) -> Vec<u64> {
    let mut state: u64 = 0x9E37_79B9_7F4A_7C15;
    let mut draw = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        min_ms + state % (max_ms - min_ms + 1)
    };
    (0..count).map(|_| draw()).collect()
}

// ANCHOR: ten_thousand
#[tokio::test(start_paused = true)]
async fn ten_thousand_sleeps_take_the_longest_sleep_of_virtual_time() {
    // tokio's Instant reads the runtime's clock, paused here; std's reads the real one.
    let (virtual_start, real_start) = (tokio::time::Instant::now(), std::time::Instant::now());
    let sleeps = sleeps_ms(10_000, 2_000, 4_000);
    let mut tasks = tokio::task::JoinSet::new();
    for &ms in &sleeps {
        tasks.spawn(tokio::time::sleep(Duration::from_millis(ms)));
    }
    while let Some(slept) = tasks.join_next().await {
        slept.expect("a sleep does not panic");
    }
    let (virtual_took, real_took) = (virtual_start.elapsed(), real_start.elapsed());

    // Virtual time: the longest sleep, to the millisecond (timers round up to one).
    let longest = Duration::from_millis(*sleeps.iter().max().unwrap());
    assert!(virtual_took >= longest && virtual_took <= longest + Duration::from_millis(2));
    // Real time: far less, with a wide margin for a slow machine.
    assert!(real_took < virtual_took / 10, "{real_took:?} real for {virtual_took:?} virtual");
}
// ANCHOR_END: ten_thousand

// ANCHOR: not_paused
#[tokio::test(start_paused = true)]
async fn a_blocking_sleep_is_not_paused_and_the_clock_does_not_see_it() {
    let (virtual_start, real_start) = (tokio::time::Instant::now(), std::time::Instant::now());
    std::thread::sleep(Duration::from_millis(200)); // Blocks the thread: no timer of tokio's.
    assert!(real_start.elapsed() >= Duration::from_millis(200));
    assert_eq!(virtual_start.elapsed(), Duration::ZERO);
}

#[tokio::test(start_paused = true)]
async fn real_io_is_not_paused_so_a_timeout_around_it_fires_first() {
    // A loopback server that answers after 200 ms of real time.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind loopback");
    let addr = listener.local_addr().expect("an address");
    let server = std::thread::spawn(move || {
        let (mut socket, _) = listener.accept().expect("accept");
        std::thread::sleep(Duration::from_millis(200));
        let _ = socket.write_all(b"pong"); // The client may be gone by now.
    });
    let virtual_start = tokio::time::Instant::now();
    let answer = tokio::time::timeout(Duration::from_secs(5), async {
        let mut socket = tokio::net::TcpStream::connect(addr).await.expect("connect");
        let mut answer = [0; 4];
        socket.read_exact(&mut answer).await.map(|_| answer)
    })
    .await;
    // While every task waited on the socket, the clock jumped 5 s to the
    // timeout's deadline: the timeout fired before the real answer came.
    assert!(answer.is_err(), "the timeout fired first");
    assert!(virtual_start.elapsed() >= Duration::from_secs(5));
    server.join().expect("the server thread ends");
}
// ANCHOR_END: not_paused
