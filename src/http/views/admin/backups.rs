//! Admin backups: the schedule, the files kept, and "Back up now".
use maud::{html, Markup};

use super::page;
use crate::http::views::components::{csrf, date};
use crate::http::views::Ctx;
use crate::services::backups::BackupFile;
use crate::services::backups::BackupSchedule;

pub struct BackupsView<'a> {
    pub schedule: Option<&'a BackupSchedule>,
    pub files: &'a [BackupFile],
    /// Why "Back up now" did nothing.
    pub problem: Option<String>,
}

pub fn render(ctx: &Ctx, view: &BackupsView) -> Markup {
    page(
        ctx,
        "Backups",
        html! {
            h1 { "Backups" }
            section.card {
                @match view.schedule {
                    Some(schedule) => {
                        p { "A backup is written every " (every(schedule)) "; the newest "
                            (schedule.keep) " are kept." }
                        form method="post" action="/admin/backups" {
                            (csrf(ctx))
                            button.button type="submit" { "Back up now" }
                        }
                    }
                    None => {
                        p { "Scheduled backups are off: set " code { "backup_dir" } " (and "
                            code { "backup_every_hours" } ", " code { "backup_keep" } ") to turn them on. "
                            "A backup can always be downloaded with " code { "POST /api/admin/backup/" } "." }
                    }
                }
                @if let Some(problem) = &view.problem { p.flash.error role="alert" { (problem) } }
            }
            section.card {
                h2 { "Files" }
                @if view.files.is_empty() { p.empty-state { "No backups yet." } }
                @else {
                    table.table #backups {
                        thead { tr { th scope="col" { "File" } th scope="col" { "Size" } th scope="col" { "Date" } } }
                        tbody {
                            @for file in view.files {
                                tr data-backup=(file.name) {
                                    td data-label="File" { a href={"/admin/backups/" (file.name)} download { (file.name) } }
                                    td data-label="Size" { (size(file.size)) }
                                    td data-label="Date" { (date(&file.modified)) }
                                }
                            }
                        }
                    }
                    p.muted { "Restore one with " code { "orderstream restore --from FILE --data-dir EMPTY_DIR" } "." }
                }
            }
        },
    )
}

fn every(schedule: &BackupSchedule) -> String {
    let hours = schedule.every.as_secs_f64() / 3600.0;
    if hours >= 1.0 {
        format!("{} hours", (hours * 10.0).round() / 10.0)
    } else {
        format!("{} seconds", schedule.every.as_secs())
    }
}

fn size(bytes: u64) -> String {
    match bytes {
        0..1024 => format!("{bytes} B"),
        1024..1_048_576 => format!("{:.1} KiB", bytes as f64 / 1024.0),
        _ => format!("{:.1} MiB", bytes as f64 / 1_048_576.0),
    }
}
