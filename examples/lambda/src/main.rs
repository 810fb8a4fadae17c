//! `bootstrap`: the Lambda entry point (custom runtime, provided.al2023).

use std::process::ExitCode;

use lambda_http::{Error, Request, service_fn};

#[tokio::main(flavor = "current_thread")]
async fn main() -> ExitCode {
    let api = match ddns_lambda::api_from_env().await {
        Ok(api) => api,
        Err(e) => {
            eprintln!("ddns-lambda cannot start: {e}");
            return ExitCode::FAILURE;
        }
    };
    let api = &api;
    let result = lambda_http::run(service_fn(move |request: Request| async move {
        Ok::<_, Error>(ddns_lambda::handle(api, request).await)
    }))
    .await;
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("ddns-lambda stopped: {e}");
            ExitCode::FAILURE
        }
    }
}
