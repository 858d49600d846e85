//! Test harness for live mode: a moto server, SDK clients that seed it, worlds (a bucket, a
//! key, a role, as the IBM procedure sets them up, or broken in one way) and the binary run
//! against them.

pub mod moto;
pub mod proxy;
pub mod stub_aws;
pub mod world;
