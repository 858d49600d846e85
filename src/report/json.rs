//! The JSON sink: the serde form of [`super::Report`] (one attachment) or
//! [`super::FleetReport`] (several), pretty-printed, with a final newline.

use std::io::{self, Write};

use super::{FleetReport, Report};

pub fn write_report(out: &mut dyn Write, report: &Report) -> io::Result<()> {
    serde_json::to_writer_pretty(&mut *out, report)?;
    writeln!(out)
}

pub fn write_fleet(out: &mut dyn Write, fleet: &FleetReport) -> io::Result<()> {
    serde_json::to_writer_pretty(&mut *out, fleet)?;
    writeln!(out)
}
