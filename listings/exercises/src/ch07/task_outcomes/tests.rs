use std::time::Duration;

use crate::ch07::task_outcomes::{Outcomes, collect_outcomes, panic_message};

/// Spawns one task per `(name, kind)` on a two-worker runtime, aborts the
/// `"stuck"` ones, and checks what `collect_outcomes` sorted where. (The
/// panic hook's messages are captured with the test's output.)
fn check(kinds: &[(&'static str, &'static str)], expected: Outcomes<f64>) {
    let mut runtime = tokio::runtime::Builder::new_multi_thread();
    let runtime = runtime.worker_threads(2).enable_time().build().expect("a runtime");
    let outcomes = runtime.block_on(async {
        let tasks: Vec<_> = kinds
            .iter()
            .map(|&(name, kind)| {
                let task = tokio::spawn(async move {
                    tokio::task::yield_now().await;
                    match kind {
                        "price" => 100.0 + name.len() as f64,
                        "literal" => panic!("the API is down"),
                        "formatted" => panic!("no quote for {name}"),
                        "parse" => "n/a".parse::<f64>().expect("the API sent a price"),
                        _ => {
                            tokio::time::sleep(Duration::from_secs(3600)).await;
                            0.0
                        }
                    }
                });
                if kind == "stuck" {
                    task.abort();
                }
                (name.to_string(), task)
            })
            .collect();
        collect_outcomes(tasks).await
    });
    assert_eq!(outcomes, expected);
}

fn named<T: Clone>(items: &[(&str, T)]) -> Vec<(String, T)> {
    items.iter().map(|(name, value)| (name.to_string(), value.clone())).collect()
}

#[test]
fn every_task_finishes() {
    let expected =
        Outcomes { finished: named(&[("ACME", 104.0), ("GLOBEX", 106.0)]), ..Outcomes::default() };
    check(&[("ACME", "price"), ("GLOBEX", "price")], expected);
}

#[test]
fn a_panic_does_not_hide_the_others() {
    let expected = Outcomes {
        finished: named(&[("ACME", 104.0), ("INITECH", 107.0)]),
        panicked: named(&[(
            "N/A",
            "the API sent a price: ParseFloatError { kind: Invalid }".to_string(),
        )]),
        cancelled: Vec::new(),
    };
    check(&[("ACME", "price"), ("N/A", "parse"), ("INITECH", "price")], expected);
}

#[test]
fn both_kinds_of_payload_give_their_message() {
    let expected = Outcomes {
        finished: Vec::new(),
        panicked: named(&[
            ("HOOLI", "the API is down".to_string()),
            ("UMBRELLA", "no quote for UMBRELLA".to_string()),
        ]),
        cancelled: Vec::new(),
    };
    check(&[("HOOLI", "literal"), ("UMBRELLA", "formatted")], expected);
}

#[test]
fn an_aborted_task_is_cancelled_not_panicked() {
    let expected = Outcomes {
        finished: named(&[("ACME", 104.0)]),
        panicked: Vec::new(),
        cancelled: vec!["SLOWCO".to_string()],
    };
    check(&[("SLOWCO", "stuck"), ("ACME", "price")], expected);
}

#[test]
fn a_payload_that_is_not_text() {
    assert_eq!(panic_message(Box::new(42_u32)), "(a payload that is not text)");
    assert_eq!(panic_message(Box::new("literal")), "literal");
    assert_eq!(panic_message(Box::new(String::from("formatted"))), "formatted");
}
