//! Telling people: mail (an outbox folder by default, SMTP when configured), text messages
//! (an outbox folder by default, an HTTP gateway when configured) and the signed
//! alert webhook.

pub mod mail;
pub mod sms;
pub mod webhook;
