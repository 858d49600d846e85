//! The sarif sink. SARIF 2.1.0: one rule per check ID, one result per check that is not a pass. (Stub: to be written.)

use std::io::{self, Write};

use super::FleetReport;

pub fn write_fleet(out: &mut dyn Write, fleet: &FleetReport) -> io::Result<()> {
    let _ = (out, fleet);
    Err(io::Error::new(
        io::ErrorKind::Unsupported,
        "--format sarif is not available yet",
    ))
}
