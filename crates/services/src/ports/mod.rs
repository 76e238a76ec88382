//! Ports: what services need from the outside, as traits, with the adapters chosen at
//! start-up. The in-process adapters serve one process; cluster adapters (Redis, NATS
//! JetStream) implement the same traits, so services do not change when they arrive.
//! Clock and Mailer predate this module and keep their own (`clock`, `mail`).

pub mod bus;

pub use bus::{EventBus, LocalBus};
