//! One integration-test binary: every test starts the real `zen` binary (or the real library)
//! against real processes on 127.0.0.1, on ephemeral ports.
mod top;
mod util;

mod provider_openai;
mod serve_http;
mod serve_stdio;
