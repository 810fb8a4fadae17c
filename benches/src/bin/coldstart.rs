//! The cold-start harness of `benches/coldstart.sh`: starts Lambda
//! `bootstrap` binaries against a loopback Lambda Runtime API
//! (`ddns_testkit::lambda_runtime`), hands each one API Gateway event and
//! times exec → first answer; alternates between the functions given, N
//! starts each, and prints each one's times and the ratio of the first two
//! medians.
//!
//! ```text
//! coldstart [--starts 15] NAME=PATH [NAME=PATH ...]
//! ```
//!
//! Every start must answer with a 200 whose body holds the source address:
//! a start that fails, or answers otherwise, fails the run.

// A benchmark prints its results.
#![allow(clippy::print_stdout)]

use std::time::Duration;

use ddns_testkit::lambda_runtime::{invoke, rest_get_event};

/// The source address of the event every start answers (`mode=get`).
const SOURCE: &str = "198.51.100.7";

/// The function's configuration, as the template sets it. No call reaches
/// AWS: `mode=get` touches no backend.
const ENV: &[(&str, &str)] = &[
    ("AWS_REGION", "eu-west-1"),
    ("AWS_ACCESS_KEY_ID", "bench"),
    ("AWS_SECRET_ACCESS_KEY", "bench"),
    ("ddns_config_table", "bench-config"),
    ("DDNS_TABLE_LAYOUT", "classic"),
    ("route_53_zone_id", "ZBENCH"),
    ("route_53_zone_name", "example.com"),
];

fn millis(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

fn main() -> std::process::ExitCode {
    let mut args = std::env::args().skip(1);
    let mut starts = 15usize;
    let mut functions: Vec<(String, String)> = Vec::new();
    while let Some(arg) = args.next() {
        if arg == "--starts" {
            starts = args.next().and_then(|n| n.parse().ok()).unwrap_or(starts);
        } else if let Some((name, path)) = arg.split_once('=') {
            functions.push((name.to_owned(), path.to_owned()));
        } else {
            eprintln!("usage: coldstart [--starts N] NAME=PATH...");
            return std::process::ExitCode::from(2);
        }
    }
    let event = rest_get_event(r#"{"mode": "get"}"#, SOURCE);
    let mut times: Vec<Vec<Duration>> = vec![Vec::new(); functions.len()];
    for _ in 0..starts {
        for (i, (_, path)) in functions.iter().enumerate() {
            match invoke(path, ENV, &event) {
                Ok(run)
                    if run.path.ends_with("/response")
                        && run.answer.contains("\"statusCode\":200")
                        && run.answer.contains(SOURCE) =>
                {
                    times[i].push(run.took);
                }
                Ok(run) => {
                    eprintln!(
                        "coldstart: {path} answered otherwise: {} {}",
                        run.path, run.answer
                    );
                    return std::process::ExitCode::FAILURE;
                }
                Err(e) => {
                    eprintln!("coldstart: {e}");
                    return std::process::ExitCode::FAILURE;
                }
            }
        }
    }
    let mut medians = Vec::new();
    for ((name, _), took) in functions.iter().zip(&mut times) {
        took.sort();
        let median = took[took.len() / 2];
        medians.push(median);
        println!(
            "{name}: {} starts, exec to first answer: min {:.2} ms, median {:.2} ms, max {:.2} ms",
            took.len(),
            millis(took[0]),
            millis(median),
            millis(took[took.len() - 1])
        );
    }
    if let [first, second, ..] = medians.as_slice() {
        println!(
            "ratio of medians {} / {}: {:.2}",
            functions[0].0,
            functions[1].0,
            first.as_secs_f64() / second.as_secs_f64()
        );
    }
    std::process::ExitCode::SUCCESS
}
