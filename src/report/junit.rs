//! The junit sink. JUnit XML: one testsuite per attachment, one testcase per check. (Stub: to be written.)

use std::io::{self, Write};

use super::FleetReport;

pub fn write_fleet(out: &mut dyn Write, fleet: &FleetReport) -> io::Result<()> {
    let _ = (out, fleet);
    Err(io::Error::new(
        io::ErrorKind::Unsupported,
        "--format junit is not available yet",
    ))
}
