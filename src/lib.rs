//! geoscenario: scenario Monte Carlo for geopolitical market theses.
//!
//! The core is plain Rust: [`config`] reads a world, [`model`] compiles it,
//! [`engine`] simulates it with the counter-based streams of [`rng`]. The
//! Python bindings live in `python/` behind the `python` feature.

pub mod allocation;
pub mod backtest;
pub mod calibrate;
pub mod config;
pub mod engine;
pub mod error;
pub mod linalg;
pub mod model;
pub mod pool;
pub mod qmc;
pub mod risk;
pub mod rng;
pub mod scan;
pub mod simd;
pub mod sort;
pub mod sum;
pub mod summary;
pub mod views;

#[cfg(feature = "python")]
mod python;

pub use config::World;
pub use engine::{simulate, Control, SimOutput, SimRequest};
pub use error::{CoreError, Result};
pub use model::Model;
