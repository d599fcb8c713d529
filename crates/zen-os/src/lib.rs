//! What zen needs of the machine it runs on, in one place: every call into C (libc and SQLite's
//! status API) behind a safe function in [`ffi`], the one module where `unsafe` is allowed; one
//! process's memory, threads, open files and CPU; and the discovery files through which `zen top`
//! and `zen soak` find a running `zen serve`, and the bounded read of its `/snapshot`. It imports nothing of zen's.

pub mod discovery;
pub mod ffi;
pub mod process;
pub mod snapshot_read;
pub mod tls;
