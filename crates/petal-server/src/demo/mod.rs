//! `petal demo`: Petal with a fictional organisation to look around in. On an installation
//! with no organisation yet, it creates one with an Admin, a Reviewer and a Viewer, a job with
//! criteria and a few dozen generated CVs in every format, screens them with the local engine,
//! prints how to sign in, and goes on serving. On any other installation it only serves.
//!
//! Everything after the organisation itself is made through the HTTP API, as a person would
//! through the pages ([`seed`]), so the demo follows every rule and its audit trail shows it.

mod cvs;
mod seed;

use crate::app::{Opening, open_database};
use crate::config::Config;
use crate::{org_setup, server};
use anyhow::{Context, bail};
use petal_domain::audit::AuditContext;
use petal_domain::{Email, OrgName, SystemClock};
use petal_storage::orgs;
use seed::{Admin, Progress, Seeder};
use serde_json::json;
use std::process::ExitCode;
use tokio_util::sync::CancellationToken;

/// The demo organisation.
const ORG_NAME: &str = "Harbour & Vale LLP (demo)";
/// How many CVs the demo job gets.
const CV_COUNT: u64 = 36;
/// The demo's people: role, name, email. The Admin comes first.
const PEOPLE: [(&str, &str, &str); 3] = [
    ("admin", "Ada Fairbairn", "admin@harbourvale.test"),
    ("reviewer", "Rhys Okonkwo", "reviewer@harbourvale.test"),
    ("viewer", "Vera Lindqvist", "viewer@harbourvale.test"),
];
const JOB_TITLE: &str = "Associate Solicitor, Commercial Disputes";
const JOB_DESCRIPTION: &str = "A fictional vacancy for Petal's demo: an associate to join \
    the commercial disputes team in Leeds, running High Court and arbitration matters.";

/// The people made, with the passwords generated for them.
struct Account {
    role: &'static str,
    email: &'static str,
    password: String,
}

/// Runs the demo until Ctrl-C or SIGTERM.
pub async fn run(config: Config) -> anyhow::Result<ExitCode> {
    if config.tls.is_some() {
        bail!(
            "petal demo serves plain HTTP on this machine; unset PETAL_TLS_CERT and PETAL_TLS_KEY"
        );
    }
    let listener = std::net::TcpListener::bind(config.listen)
        .with_context(|| format!("cannot listen on {}", config.listen))?;
    // The seeding talks to the server on this machine, at the address it listens on.
    let mut address = listener.local_addr()?;
    if address.ip().is_unspecified() {
        address.set_ip(if address.is_ipv4() {
            std::net::Ipv4Addr::LOCALHOST.into()
        } else {
            std::net::Ipv6Addr::LOCALHOST.into()
        });
    }
    let admin_invite = create_org_if_empty(&config).await?;
    let stop = CancellationToken::new();
    let shutdown = {
        let stop = stop.clone();
        async move {
            tokio::select! {
                () = server::shutdown_signal() => {},
                () = stop.cancelled() => {},
            }
        }
    };
    let mut served = {
        let config = config.clone();
        tokio::spawn(async move { server::run(&config, listener, shutdown).await })
    };
    let seeder = Seeder::new(format!("http://{address}"))?;
    let seeding = async {
        seeder.wait_ready().await?;
        match admin_invite {
            None => {
                println!(
                    "This installation already has an organisation, so petal demo made none and \
                     serves it at {} as petal serve would. The demo starts only on an empty \
                     installation (with the default settings, where {} does not exist yet).",
                    config.public_url,
                    config.data_dir.display()
                );
                Ok(())
            }
            Some(invite) => {
                println!("Making the demo organisation and screening {CV_COUNT} fictional CVs…");
                let (accounts, admin, progress) = populate(&seeder, &invite).await.context(
                    "its organisation is left half made: start again on an empty installation",
                )?;
                print_instructions(&config, &accounts, &admin, progress);
                Ok::<_, anyhow::Error>(())
            }
        }
    };
    // The server may stop before the seeding ends (it could not start, or a signal came): its
    // own answer is the one to report.
    tokio::select! {
        outcome = &mut served => {
            outcome.context("the server stopped abnormally")??;
            return Ok(ExitCode::SUCCESS);
        }
        seeded = seeding => {
            if let Err(error) = seeded {
                stop.cancel();
                let _ = served.await;
                return Err(error.context("the demo could not be set up"));
            }
        }
    }
    served.await.context("the server stopped abnormally")??;
    Ok(ExitCode::SUCCESS)
}

/// Creates the demo organisation and its Admin invite (as `petal org create` does) if the
/// installation has no organisation; returns the invite's token.
async fn create_org_if_empty(config: &Config) -> anyhow::Result<Option<String>> {
    let db = open_database(config, Opening::CreateAndMigrate).await?;
    let created = if orgs::list_ids(&db).await?.is_empty() {
        let created = org_setup::create_org_with_admin_invite(
            &db,
            &SystemClock,
            &config.public_url,
            &OrgName::parse(ORG_NAME)?,
            &Email::parse(PEOPLE[0].2)?,
            &AuditContext::cli(),
        )
        .await?;
        Some(created.invite_token)
    } else {
        None
    };
    db.close().await;
    Ok(created)
}

/// Signs the people up, makes the job, uploads the CVs and waits for their screening.
async fn populate(
    seeder: &Seeder,
    admin_invite: &str,
) -> anyhow::Result<(Vec<Account>, Admin, Progress)> {
    let passwords = [new_password()?, new_password()?, new_password()?];
    let [admin_person, reviewer, viewer] = PEOPLE;
    let [admin_password, reviewer_password, viewer_password] = &passwords;
    seeder.accept_invite(admin_invite, admin_person.1, admin_password).await?;
    let admin = seeder.enrol_admin(admin_person.2, admin_password).await?;
    seeder.add_member(&admin, reviewer, reviewer_password).await?;
    seeder.add_member(&admin, viewer, viewer_password).await?;
    let criteria = json!([
        {"text": "2:1 degree or above", "kind": "must", "weight": 4},
        {"text": "At least 3 years' experience in litigation", "kind": "must", "weight": 4},
        {"text": "SQE1 and SQE2 passed", "kind": "must", "weight": 3},
        {"text": "Contract law", "kind": "must", "weight": 2},
        {"text": "Arbitration", "kind": "nice", "weight": 1},
        {"text": "Fluent French", "kind": "nice", "weight": 1}
    ]);
    let job = seeder.create_job(&admin, JOB_TITLE, JOB_DESCRIPTION, criteria).await?;
    seeder.upload(&admin, &job, cvs::generate(CV_COUNT)).await?;
    let progress = seeder.wait_screened(&admin, &job).await?;
    seeder.sign_out(&admin).await?;
    let accounts = PEOPLE
        .iter()
        .zip(passwords)
        .map(|(&(role, _, email), password)| Account { role, email, password })
        .collect();
    Ok((accounts, admin, progress))
}

/// A random password of 64 bits, in four groups of four hex digits.
fn new_password() -> anyhow::Result<String> {
    let mut bytes = [0u8; 8];
    aws_lc_rs::rand::fill(&mut bytes)
        .map_err(|_| anyhow::anyhow!("random number generator failed"))?;
    let hex = hex::encode(bytes);
    Ok(hex.as_bytes().chunks(4).map(|c| String::from_utf8_lossy(c)).collect::<Vec<_>>().join("-"))
}

fn print_instructions(config: &Config, accounts: &[Account], admin: &Admin, progress: Progress) {
    let url = config.public_url.as_str().trim_end_matches('/');
    println!();
    println!(
        "Petal's demo is ready at {url}/ (Ctrl-C stops it; its data stays in {}).",
        config.data_dir.display()
    );
    println!();
    println!(
        "\"{ORG_NAME}\" has one job, \"{JOB_TITLE}\", with {} fictional CVs screened by the \
         local engine ({} failed).",
        progress.total, progress.failed
    );
    println!();
    println!("Sign in at {url}/login as any of these (the passwords are shown only now):");
    for account in accounts {
        println!("  {:<9} {:<27} {}", account.role, account.email, account.password);
    }
    println!();
    println!("Every sign-in asks for a second factor:");
    println!(
        "  - admin: an authenticator is already enrolled. Add this key to an authenticator app \
         (Google Authenticator, Microsoft Authenticator, 1Password, …) as a time-based key:"
    );
    println!("        {}", admin.totp_secret);
    println!("    or type one of these backup codes instead (each works once):");
    println!("        {}", admin.backup_codes.join("  "));
    println!(
        "  - reviewer and viewer: the first sign-in shows a QR code. Scan it with an \
         authenticator app, type the six-digit code it shows, and keep the backup codes Petal \
         then shows once."
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn demo_passwords_are_random_and_pass_the_strength_rules() {
        let (a, b) = (new_password().unwrap(), new_password().unwrap());
        assert_ne!(a, b);
        assert_eq!(a.len(), 19);
        for (_, name, email) in PEOPLE {
            let password = secrecy::SecretString::from(a.clone());
            crate::auth::password::check_strength(&password, &[name, email]).unwrap();
        }
    }
}
