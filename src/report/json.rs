//! The JSON sink: the serde form of [`crate::model::report::Report`] (one attachment) or
//! [`crate::model::report::FleetReport`] (several), pretty-printed, with a final newline.

use std::io::{self, Write};

use crate::model::report::{FleetReport, Report};

pub fn write_report(out: &mut dyn Write, report: &Report) -> io::Result<()> {
    serde_json::to_writer_pretty(&mut *out, report)?;
    writeln!(out)
}

pub fn write_fleet(out: &mut dyn Write, fleet: &FleetReport) -> io::Result<()> {
    serde_json::to_writer_pretty(&mut *out, fleet)?;
    writeln!(out)
}
