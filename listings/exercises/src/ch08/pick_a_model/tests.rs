use crate::ch08::pick_a_model::{Model, Workload, best, predict};

fn workload(jobs: u32, cpu_ms: f64, io_ms: f64, cores: u32) -> Workload {
    Workload { jobs, cpu_ms, io_ms, cores }
}

/// Checks the three predictions (to a thousandth of a ms) and the choice.
fn check(w: Workload, expected_ms: [f64; 3], expected: Model) {
    let models = [Model::Sequential, Model::Async, Model::Threads];
    for (model, ms) in models.into_iter().zip(expected_ms) {
        let got = predict(&w, model);
        assert!((got - ms).abs() < 1e-3, "{model:?} on {w:?}: predicted {got} ms, expected {ms}");
    }
    assert_eq!(best(&w), expected, "the best model for {w:?}");
}

#[test]
fn cpu_bound_jobs_go_to_threads_on_several_cores() {
    // The article's CPU job: ten of them, about 100 ms each, on two cores.
    check(workload(10, 100.0, 0.0, 2), [1000.0, 1000.01, 500.5], Model::Threads);
}

#[test]
fn cpu_bound_jobs_on_one_core_stay_sequential() {
    check(workload(10, 100.0, 0.0, 1), [1000.0, 1000.01, 1000.5], Model::Sequential);
}

#[test]
fn many_slow_waits_go_to_async() {
    check(workload(10_000, 0.01, 100.0, 2), [1_000_100.0, 110.01, 600.01], Model::Async);
}

#[test]
fn a_few_waits_overlap_on_any_concurrent_model() {
    let w = workload(40, 0.0, 100.0, 2);
    check(w, [4000.0, 100.04, 102.0], Model::Async);
    assert!(predict(&w, Model::Threads) < predict(&w, Model::Sequential) / 30.0);
}

#[test]
fn heavy_cpu_next_to_the_waits_needs_the_cores() {
    check(workload(100, 20.0, 100.0, 4), [12_000.0, 2000.1, 505.0], Model::Threads);
}

#[test]
fn one_job_has_nothing_to_overlap() {
    check(workload(1, 5.0, 50.0, 2), [55.0, 55.001, 55.05], Model::Sequential);
}
