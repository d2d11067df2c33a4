//! Telling people: mail (an outbox folder by default, SMTP when configured) and the signed
//! alert webhook.

pub mod mail;
pub mod webhook;
