//! The floor of the cold-start benchmark (`benches/coldstart.sh`): a bare
//! `lambda_http` function answering a fixed body, built like `bootstrap`.

use lambda_http::{Body, Error, Request, Response, service_fn};

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Error> {
    lambda_http::run(service_fn(|_request: Request| async {
        Ok::<_, Error>(Response::new(Body::Text(
            r#"{"return_message": "198.51.100.7", "return_status": "success"}"#.to_owned(),
        )))
    }))
    .await
}
