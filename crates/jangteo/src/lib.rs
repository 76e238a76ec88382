//! The jangteo application: configuration, start-up wiring and telemetry, shared by the
//! `jangteo` binary and the integration tests so both run exactly the same server.
#![forbid(unsafe_code)]

pub mod config;
pub mod seed;
pub mod serve;
pub mod startup;
pub mod telemetry;

pub use config::Config;
pub use jangteo_services::install_tls_provider;
pub use startup::{Application, Overrides};
