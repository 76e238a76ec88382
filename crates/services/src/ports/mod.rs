//! Ports: what services need from the outside, as traits, with the adapters chosen at
//! start-up. The in-process adapters serve one process; cluster adapters (Redis, NATS
//! JetStream) implement the same traits, so services do not change when they arrive.
//! Clock and Mailer predate this module and keep their own (`clock`, `mail`).

pub mod bus;
pub mod cache;
pub mod gate;
pub mod payment;
pub mod rate_limit;
pub mod unique_counter;

pub use bus::{EventBus, LocalBus};
pub use cache::{LocalReadCache, ReadCache};
pub use gate::{Admission, AdmissionGate, LocalGate};
pub use payment::{GatewayError, PaymentGateway};
pub use rate_limit::{RateLimiter, RetryAfter};
pub use unique_counter::{LocalUniqueCounter, ProductDay, UniqueCounter};
