//! The markdown sink. Markdown: a status table first, evidence and remediation in <details>. (Stub: to be written.)

use std::io::{self, Write};

use super::FleetReport;

pub fn write_fleet(out: &mut dyn Write, fleet: &FleetReport) -> io::Result<()> {
    let _ = (out, fleet);
    Err(io::Error::new(
        io::ErrorKind::Unsupported,
        "--format markdown is not available yet",
    ))
}
