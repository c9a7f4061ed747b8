//! `palazzo pratiche tempi [--year AAAA] [--format text|csv|json]`:
//! TEMPI-01, the actual times of the procedures per online service and
//! quarter, computed by the same service function as the public page
//! (`/servizi-online/tempi`) and the API (docs/istanze.md). Counts and
//! durations only.

use palazzo_services::pratiche::tempi::TempiReport;

/// The output format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// A table for people, one line per service and quarter.
    Text,
    /// The CSV published for download.
    Csv,
    /// The JSON of `GET /api/v1/servizi-online/tempi`.
    Json,
}

fn num(v: Option<f64>) -> String {
    v.map_or_else(|| "-".to_owned(), |d| format!("{d:.2}"))
}

/// Prints the report in `format` on standard output.
pub fn print(report: &TempiReport, format: Format) -> anyhow::Result<()> {
    match format {
        Format::Csv => print!("{}", report.to_csv()),
        Format::Json => println!("{}", palazzo_web::tempi::json_text(report)),
        Format::Text => {
            println!(
                "Tempi dei procedimenti – {}{} (al {})",
                report.comune,
                report.year.map(|y| format!(", {y}")).unwrap_or_default(),
                report.as_of.strftime("%d/%m/%Y")
            );
            println!(
                "servizio\ttrimestre\tavviati\tconclusi\tentro il termine\toltre il termine\ttempo medio\ttempo massimo\tintegrazioni\tpreavvisi 10-bis\tsilenzio-assenso"
            );
            for r in &report.rows {
                println!(
                    "{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}",
                    r.row.procedure_code,
                    r.row.quarter.label(),
                    r.row.started,
                    r.row.concluded,
                    r.row.concluded_in_term,
                    r.concluded_late(),
                    num(r.row.mean_net_days),
                    r.row
                        .max_net_days
                        .map_or_else(|| "-".to_owned(), |d| d.to_string()),
                    r.row.integration_requests,
                    r.row.preavvisi_10bis,
                    r.row.silenzio_assenso_count,
                );
            }
            println!("{} righe.", report.rows.len());
        }
    }
    Ok(())
}
