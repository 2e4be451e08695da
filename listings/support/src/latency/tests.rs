//! The latency server, tested with plain blocking std clients.

use super::*;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream as StdStream;
use std::time::Instant;

/// One response as a client sees it.
struct Response {
    status: String,
    headers: String,
    body: Vec<u8>,
}

/// A connection whose reads give up after 10 s, so that a bug fails a test
/// instead of hanging it.
fn connect(server: &LatencyServer) -> BufReader<StdStream> {
    let stream = StdStream::connect(server.addr()).unwrap();
    stream.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    BufReader::new(stream)
}

fn send(connection: &mut BufReader<StdStream>, request: &str) {
    connection.get_mut().write_all(request.as_bytes()).unwrap();
}

fn get_request(target: &str) -> String {
    format!("GET {target} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
}

/// Reads one response, its body framed by its Content-Length.
fn read_response(connection: &mut BufReader<StdStream>) -> Response {
    let mut status = String::new();
    connection.read_line(&mut status).unwrap();
    let mut headers = String::new();
    while !headers.ends_with("\r\n\r\n") {
        assert_ne!(connection.read_line(&mut headers).unwrap(), 0, "cut off");
    }
    let length = headers
        .lines()
        .find_map(|line| line.strip_prefix("Content-Length: "))
        .expect("a Content-Length header")
        .parse()
        .unwrap();
    let mut body = vec![0; length];
    connection.read_exact(&mut body).unwrap();
    let status = status.trim_end().to_string();
    Response { status, headers, body }
}

/// Sends `request` on a new connection and checks the response's status.
fn check(server: &LatencyServer, request: &str, expected_status: &str) -> Response {
    let mut connection = connect(server);
    send(&mut connection, request);
    let response = read_response(&mut connection);
    assert_eq!(response.status, expected_status, "for {request:?}");
    response
}

/// Whether the server closed the connection (without sending anything more).
fn is_closed(connection: &mut BufReader<StdStream>) -> bool {
    let mut rest = Vec::new();
    match connection.read_to_end(&mut rest) {
        Ok(_) => rest.is_empty(),
        Err(error) => error.kind() == std::io::ErrorKind::ConnectionReset,
    }
}

#[test]
fn a_response_arrives_after_about_the_latency() {
    let server = LatencyServer::start(Config::latency(100)).unwrap();
    let started = Instant::now();
    let response = check(&server, &get_request("/ticker/ACME?page=1"), "HTTP/1.1 200 OK");
    let elapsed = started.elapsed();
    assert!(elapsed >= Duration::from_millis(100), "{elapsed:?}");
    assert!(elapsed < Duration::from_millis(1000), "{elapsed:?}");
    assert!(response.headers.contains("Content-Type: application/json\r\n"));
    assert_eq!(server.requests_served(), 1);
}

#[test]
fn bodies_are_exactly_the_payload_and_deterministic() {
    for payload in [0, 20, 38, 39, 1024, 100_000] {
        let server = LatencyServer::start(Config::latency(1).with_payload(payload)).unwrap();
        let request = get_request("/ticker/ACME?page=3");
        let first = check(&server, &request, "HTTP/1.1 200 OK").body;
        let again = check(&server, &request, "HTTP/1.1 200 OK").body;
        assert_eq!(first.len(), payload);
        assert_eq!(first, again);
        assert_eq!(first, ticker_body("ACME", 3, payload));
    }
}

#[test]
fn a_body_is_valid_json_from_the_smallest_object_up() {
    let smallest = br#"{"symbol":"ACME","page":3,"prices":[]}"#.len();
    assert_eq!(smallest, 38, "the size ticker_body's documentation states");
    for payload in (0..300).chain([4096, 65_536]) {
        let body = ticker_body("ACME", 3, payload);
        assert_eq!(body.len(), payload);
        let parsed = serde_json::from_slice::<serde_json::Value>(&body);
        assert_eq!(parsed.is_ok(), payload >= smallest, "{payload} bytes");
        if let Ok(value) = parsed {
            assert_eq!(value["symbol"], "ACME");
            assert_eq!(value["page"], 3);
        }
    }
    assert_ne!(ticker_body("ACME", 3, 1024), ticker_body("ACME", 4, 1024));
    assert_ne!(ticker_body("ACME", 3, 1024), ticker_body("ACMF", 3, 1024));
}

#[test]
fn keep_alive_serves_several_requests_in_order() {
    let server = LatencyServer::start(Config::latency(10).with_payload(200)).unwrap();
    let mut connection = connect(&server);
    for page in [1, 2] {
        send(&mut connection, &get_request(&format!("/ticker/ACME?page={page}")));
        let response = read_response(&mut connection);
        assert_eq!(response.body, ticker_body("ACME", page, 200));
    }
    // Pipelined: both requests sent before either answer is read.
    send(
        &mut connection,
        &(get_request("/ticker/ACME?page=3") + &get_request("/ticker/ACME?page=4")),
    );
    for page in [3, 4] {
        assert_eq!(read_response(&mut connection).body, ticker_body("ACME", page, 200));
    }
    assert_eq!(server.requests_served(), 4);
}

#[test]
fn connection_close_is_honoured() {
    let server = LatencyServer::start(Config::latency(10)).unwrap();
    let mut connection = connect(&server);
    send(
        &mut connection,
        "GET /ticker/ACME?page=1 HTTP/1.1\r\nHost: ticker\r\nConnection: close\r\n\r\n",
    );
    let response = read_response(&mut connection);
    assert!(response.headers.contains("Connection: close\r\n"));
    assert!(is_closed(&mut connection));
    // HTTP/1.0 closes unless asked to keep the connection alive.
    let mut connection = connect(&server);
    send(&mut connection, "GET /ticker/ACME HTTP/1.0\r\n\r\n");
    assert_eq!(read_response(&mut connection).status, "HTTP/1.1 200 OK");
    assert!(is_closed(&mut connection));
}

#[test]
fn chunked_mode_delivers_the_body_in_pieces() {
    let config =
        Config::latency(10).with_payload(4096).with_chunks(1024, Duration::from_millis(20));
    let server = LatencyServer::start(config).unwrap();
    let mut stream = connect(&server).into_inner();
    stream
        .write_all(b"GET /ticker/ACME?page=1 HTTP/1.1\r\nHost: ticker\r\nConnection: close\r\n\r\n")
        .unwrap();
    let (mut response, mut reads, mut buffer) = (Vec::new(), 0, [0; 65_536]);
    loop {
        let n = stream.read(&mut buffer).unwrap();
        if n == 0 {
            break;
        }
        response.extend_from_slice(&buffer[..n]);
        reads += 1;
    }
    assert!(reads > 1, "{reads} reads");
    assert!(response.ends_with(&ticker_body("ACME", 1, 4096)));
}

#[test]
fn latency_ms_overrides_the_latency_for_one_request() {
    let server = LatencyServer::start(Config::latency(2_000)).unwrap();
    let started = Instant::now();
    check(&server, &get_request("/ticker/ACME?latency_ms=0&page=1"), "HTTP/1.1 200 OK");
    assert!(started.elapsed() < Duration::from_millis(1_000));

    let server = LatencyServer::start(Config::latency(0)).unwrap();
    let started = Instant::now();
    check(&server, &get_request("/ticker/ACME?latency_ms=200"), "HTTP/1.1 200 OK");
    assert!(started.elapsed() >= Duration::from_millis(200));
}

#[test]
fn a_thousand_concurrent_requests_take_about_one_latency() {
    let latency = Duration::from_millis(100);
    let server = LatencyServer::start(Config::latency(100)).unwrap();
    let started = Instant::now();
    let mut connections: Vec<_> = (0..1_000).map(|_| connect(&server)).collect();
    for (page, connection) in connections.iter_mut().enumerate() {
        send(connection, &get_request(&format!("/ticker/ACME?page={page}")));
    }
    for (page, connection) in connections.iter_mut().enumerate() {
        let body = read_response(connection).body;
        assert_eq!(body, ticker_body("ACME", page as u64, 1024));
    }
    let elapsed = started.elapsed();
    assert!(elapsed < 20 * latency, "{elapsed:?}");
    assert_eq!(server.requests_served(), 1_000);
}

#[test]
fn dropping_the_server_closes_its_port_and_connections() {
    let server = LatencyServer::start(Config::latency(10_000)).unwrap();
    let addr = server.addr();
    let mut idle = connect(&server);
    let mut waiting = connect(&server);
    send(&mut waiting, &get_request("/ticker/ACME?page=1"));
    std::thread::sleep(Duration::from_millis(50)); // Let the server read it.
    let started = Instant::now();
    drop(server);
    assert!(started.elapsed() < Duration::from_secs(1));
    assert!(StdStream::connect(addr).is_err());
    assert!(is_closed(&mut idle));
    assert!(is_closed(&mut waiting));
}

#[test]
fn an_idle_connection_is_closed() {
    let idle = Duration::from_millis(200);
    let server = LatencyServer::start_with_idle_timeout(Config::latency(10), idle).unwrap();
    let mut connection = connect(&server);
    let started = Instant::now();
    assert!(is_closed(&mut connection));
    assert!(started.elapsed() >= idle);
    // A connection that stops halfway through a request is closed too.
    let mut connection = connect(&server);
    send(&mut connection, "GET /ticker/ACME?page=1 HTTP/1.1\r\n");
    assert!(is_closed(&mut connection));
}

#[test]
fn requests_it_cannot_serve_get_400() {
    let server = LatencyServer::start(Config::latency(10)).unwrap();
    let long_header = format!("X-Padding: {}\r\n", "x".repeat(10_000));
    for request in [
        "BLAH\r\n\r\n".to_string(),
        "GET /ticker/ACME?page=1\r\n\r\n".to_string(),
        "GET /ticker/ACME?page=1 HTTP/2.0\r\n\r\n".to_string(),
        "POST /ticker/ACME?page=1 HTTP/1.1\r\nContent-Length: 0\r\n\r\n".to_string(),
        "GET /ticker/ACME?page=1 HTTP/1.1\r\nno colon\r\n\r\n".to_string(),
        "GET /ticker/ACME?page=1 HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n".to_string(),
        get_request("/ticker/ACME?page=ten"),
        get_request("/ticker/ACME?latency_ms=-1"),
        get_request("/ticker/ACME?latency_ms=30001"),
        format!("GET /ticker/ACME?page=1 HTTP/1.1\r\n{long_header}\r\n"),
        "GET /ticker/ACME?page=1 HTTP/1.1\r\nConnection: close\r\n\r\n".to_string(), // no Host
    ] {
        let response = check(&server, &request, "HTTP/1.1 400 Bad Request");
        assert!(response.headers.contains("Connection: close\r\n"));
    }
}

#[test]
fn other_paths_get_404_and_keep_the_connection() {
    let server = LatencyServer::start(Config::latency(10)).unwrap();
    for target in ["/", "/ticker", "/ticker/", "/ticker/AC/ME", "/ticker/AC%20ME"] {
        check(&server, &get_request(target), "HTTP/1.1 404 Not Found");
    }
    // A request body is read and dropped, and the connection stays usable.
    let mut connection = connect(&server);
    send(
        &mut connection,
        "GET /nothing HTTP/1.1\r\nHost: ticker\r\nContent-Length: 5\r\n\r\nhello",
    );
    assert_eq!(read_response(&mut connection).status, "HTTP/1.1 404 Not Found");
    send(&mut connection, &get_request("/ticker/ACME?page=1"));
    assert_eq!(read_response(&mut connection).status, "HTTP/1.1 200 OK");
}

#[test]
fn raising_the_fd_limit_twice_changes_nothing() {
    let limit = raise_fd_limit();
    assert_eq!(raise_fd_limit(), limit, "raising it again changes nothing");
    assert!(limit > 0);
}

#[test]
fn with_a_capacity_the_rest_wait_in_line_and_the_line_is_counted() {
    let server = LatencyServer::start(Config::latency(200).with_capacity(2)).unwrap();
    let started = Instant::now();
    let clients: Vec<_> = (0..6)
        .map(|page| {
            let mut connection = connect(&server);
            send(&mut connection, &get_request(&format!("/ticker/ACME?page={page}")));
            std::thread::spawn(move || read_response(&mut connection).status)
        })
        .collect();
    for client in clients {
        assert!(client.join().unwrap().contains("200"));
    }
    // Two at a time: three rounds of 200 ms, and four requests waited at once.
    assert!(started.elapsed() >= Duration::from_millis(550), "{:?}", started.elapsed());
    assert_eq!(server.peak_waiting(), 4);
}
