//! Integration tests: real daemons started by the tests on 127.0.0.x (never another address),
//! killed when their guard drops. A missing daemon fails the test with the Debian package to
//! install. One test binary for the crate (see STYLE.md).

mod support;

mod dicom;
mod iot;
mod nmap;
mod ratelimit;
mod ssh;
mod web;
