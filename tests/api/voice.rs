//! `POST /twilio/voice`: who is refused, who rings through, and what happens to bad requests.

use serde_json::json;

use crate::helpers::*;

#[tokio::test]
async fn an_unknown_caller_is_forwarded_to_the_business_showing_their_number() {
    let app = spawn_app().await;
    let twiml = app.call("CA100", "+442079460555").await;

    assert_eq!(twiml.verbs(), ["Dial"]);
    assert_eq!(twiml.attribute("Dial", "callerId").as_deref(), Some("+442079460555"));
    assert_eq!(twiml.attribute("Dial", "timeout").as_deref(), Some("25"));
    assert_eq!(twiml.attribute("Dial", "answerOnBridge").as_deref(), Some("true"));
    assert_eq!(twiml.attribute("Dial", "action").as_deref(), Some("/twilio/dial-status"));
    assert_eq!(twiml.text_of("Number"), [OWNER_PHONE]);
}

#[tokio::test]
async fn every_forward_number_rings() {
    let app = spawn_app_with(|s| {
        s.forward.to.push(saidno::domain::PhoneNumber::from_e164("+447700900123").unwrap());
        s.forward.ring_timeout_secs = 15;
    })
    .await;
    let twiml = app.call("CA101", "+442079460555").await;
    assert_eq!(twiml.text_of("Number"), [OWNER_PHONE, "+447700900123"]);
    assert_eq!(twiml.attribute("Dial", "timeout").as_deref(), Some("15"));
}

#[tokio::test]
async fn a_business_with_its_own_recording_plays_it_to_a_declined_caller_and_the_log_says_so() {
    const RECORDING: &str = "https://recordings.example.com/acme/we-said-no.mp3";
    let app = spawn_app_with(|s| s.refusal.recording = RECORDING.into()).await;
    app.decline(json!({"number": PUSHY, "company": "Everest Windows"})).await;

    let twiml = app.call("CA210", PUSHY).await;
    assert_eq!(twiml.verbs(), ["Play", "Hangup"]);
    assert_eq!(twiml.text_of("Play"), [RECORDING]);
    let logged = app.calls().await;
    assert_eq!(logged[0]["heard"], format!("the business's recording ({RECORDING})"));
    // A caller refused for withholding their number still hears the policy's own words.
    let withheld = spawn_app_with(|s| {
        s.refusal.recording = RECORDING.into();
        s.policy.withheld = saidno::config::CallerPolicy::Refuse;
    })
    .await;
    assert_eq!(withheld.call("CA211", "anonymous").await.verbs(), ["Say", "Hangup"]);
}

#[tokio::test]
async fn a_declined_caller_hears_the_business_the_company_and_the_date_then_the_line_closes() {
    let app = spawn_app().await;
    let saved = app.decline(json!({"number": PUSHY, "company": "Everest Windows", "note": "kitchen upsell"})).await;
    let declined_at: jiff::Timestamp = saved["record"]["declined_at"].as_str().unwrap().parse().unwrap();
    let date = declined_at.to_zoned_datetime(jiff::tz::TimeZone::UTC).strftime("%-d %B %Y").to_string();

    let twiml = app.call("CA200", PUSHY).await;

    assert_eq!(twiml.verbs(), ["Say", "Hangup"]);
    let said = &twiml.text_of("Say")[0];
    assert!(said.contains("Acme Plumbing"), "{said}");
    assert!(said.contains("Everest Windows"), "{said}");
    assert!(said.contains(&date), "{said} should name {date}");
    assert!(said.contains("remove this number"), "{said}");
    assert_eq!(twiml.attribute("Say", "voice").as_deref(), Some("Polly.Amy"));
}

#[tokio::test]
async fn a_silent_decline_rejects_as_busy_without_answering() {
    let app = spawn_app().await;
    app.decline(json!({"number": PUSHY, "company": "Everest Windows", "mode": "reject"})).await;
    let twiml = app.call("CA201", PUSHY).await;
    assert_eq!(twiml.verbs(), ["Reject"]);
    assert_eq!(twiml.attribute("Reject", "reason").as_deref(), Some("busy"));
}

#[tokio::test]
async fn the_configured_default_refusal_applies_to_declines_without_their_own() {
    let app = spawn_app_with(|s| s.refusal.mode = saidno::domain::RefusalMode::Reject).await;
    app.decline(json!({"number": PUSHY})).await;
    assert_eq!(app.call("CA202", PUSHY).await.verbs(), ["Reject"]);
}

#[tokio::test]
async fn a_number_declined_in_national_form_matches_the_provider_e164_form() {
    let app = spawn_app().await;
    app.decline(json!({"number": "020 7946 0123", "company": "Everest Windows"})).await;
    assert_eq!(app.call("CA203", "+442079460123").await.verbs(), ["Say", "Hangup"]);
}

#[tokio::test]
async fn an_allowed_number_rings_through_even_when_declined() {
    let app = spawn_app().await;
    app.decline(json!({"number": PUSHY, "company": "Everest Windows"})).await;
    let (status, _) =
        app.api(reqwest::Method::POST, "/allows", Some(json!({"number": PUSHY, "name": "Service desk"}))).await;
    assert_eq!(status, 201);
    assert_eq!(app.call("CA204", PUSHY).await.verbs(), ["Dial"]);
    let calls = app.calls().await;
    assert!(calls[0]["reason"].as_str().unwrap().contains("allowed (Service desk)"), "{}", calls[0]);
}

#[tokio::test]
async fn withheld_callers_are_forwarded_without_a_caller_id_and_logged_as_withheld() {
    let app = spawn_app().await;
    let callers = [
        ("CA301", "anonymous"),
        ("CA302", "+266696687"),
        ("CA303", "Restricted"),
        ("CA304", ""),
        ("CA305", "sip:sales@dialer.example.com"),
    ];
    for (sid, from) in callers {
        let twiml = app.call(sid, from).await;
        assert_eq!(twiml.verbs(), ["Dial"], "{from:?}");
        assert_eq!(twiml.attribute("Dial", "callerId"), None, "{from:?}");
    }
    for call in app.calls().await {
        assert_eq!(call["from"], "withheld");
        assert_eq!(call["decision"], "forward");
        assert_eq!(call["reason"], "forwarded: caller withheld their number");
    }
}

#[tokio::test]
async fn a_provider_number_outside_the_numbering_plan_is_still_answered() {
    let app = spawn_app().await;
    // 01632 960xxx is not in the metadata; a call from it must not fail.
    app.decline(json!({"number": "+441632960123", "company": "Fictional Ltd", "force": true})).await;
    assert_eq!(app.call("CA305", "+441632960123").await.verbs(), ["Say", "Hangup"]);
    assert_eq!(app.call("CA306", "+441632960124").await.verbs(), ["Dial"]);
}

#[tokio::test]
async fn every_call_is_logged_with_its_decision_and_reason() {
    let app = spawn_app().await;
    app.decline(json!({"number": PUSHY, "company": "Everest Windows", "declined_by": "Sam"})).await;
    app.call("CA400", PUSHY).await;
    app.call("CA401", "+442079460555").await;

    let calls = app.calls().await;
    assert_eq!(calls.len(), 2);
    assert_eq!(calls[0]["call_sid"], "CA401");
    assert_eq!(calls[0]["decision"], "forward");
    assert_eq!(calls[1]["call_sid"], "CA400");
    assert_eq!(calls[1]["from"], PUSHY);
    assert_eq!(calls[1]["to"], BUSINESS_NUMBER);
    assert_eq!(calls[1]["decision"], "decline");
    assert_eq!(calls[1]["company"], "Everest Windows");
    let reason = calls[1]["reason"].as_str().unwrap();
    assert!(reason.starts_with("refused: Everest Windows, declined ") && reason.contains("by Sam"), "{reason}");
    assert!(calls[1]["at"].as_str().unwrap().parse::<jiff::Timestamp>().is_ok());
}

#[tokio::test]
async fn hostile_company_names_are_escaped_in_the_twiml() {
    let app = spawn_app().await;
    let company = "<Dial>+19005550000</Dial> & \"Sons\" ']]>";
    app.decline(json!({"number": PUSHY, "company": company})).await;
    let twiml = app.call("CA500", PUSHY).await;
    assert_eq!(twiml.verbs(), ["Say", "Hangup"], "{}", twiml.xml);
    assert!(twiml.text_of("Say")[0].contains(company));
    assert!(twiml.text_of("Number").is_empty());
}

#[tokio::test]
async fn answers_are_xml_with_nothing_before_the_declaration_and_under_64_kb() {
    let app = spawn_app().await;
    app.decline(json!({"number": PUSHY, "company": "x".repeat(120)})).await;
    for from in [PUSHY, "+442079460555"] {
        let twiml = app.call("CA501", from).await;
        assert_eq!(twiml.content_type, "text/xml");
        assert!(twiml.xml.starts_with("<?xml"), "{}", twiml.xml);
        assert!(twiml.xml.len() < 64 * 1024);
    }
}

#[tokio::test]
async fn with_no_phones_configured_calls_go_to_voicemail() {
    let app = spawn_app_with(|s| s.forward.to.clear()).await;
    let twiml = app.call("CA502", "+442079460555").await;
    assert_eq!(twiml.verbs(), ["Say", "Record", "Hangup"]);
    assert_eq!(twiml.attribute("Record", "action").as_deref(), Some("/twilio/voicemail"));
}

mod refused_requests {
    use super::*;

    async fn assert_nothing_logged(app: &TestApp) {
        assert!(app.calls().await.is_empty());
    }

    #[tokio::test]
    async fn a_request_without_a_signature_is_forbidden_and_not_recorded() {
        let app = spawn_app().await;
        let response = app.post_form("/twilio/voice", form_body(&[("CallSid", "CA1"), ("From", PUSHY)]), None).await;
        assert_eq!(response.status(), 403);
        assert_nothing_logged(&app).await;
    }

    #[tokio::test]
    async fn a_wrong_signature_is_forbidden_and_not_recorded() {
        let app = spawn_app().await;
        let pairs = [("CallSid", "CA1"), ("From", PUSHY)];
        let signed_for_other_number = saidno::provider::twilio::signature::sign(
            AUTH_TOKEN,
            &format!("{PUBLIC_URL}/twilio/voice"),
            &params(&[("CallSid", "CA1"), ("From", "+442079460555")]),
        );
        let response = app.post_form("/twilio/voice", form_body(&pairs), Some(&signed_for_other_number)).await;
        assert_eq!(response.status(), 403);
        let wrong_token = saidno::provider::twilio::signature::sign(
            "not-the-token",
            &format!("{PUBLIC_URL}/twilio/voice"),
            &params(&pairs),
        );
        let response = app.post_form("/twilio/voice", form_body(&pairs), Some(&wrong_token)).await;
        assert_eq!(response.status(), 403);
        assert_nothing_logged(&app).await;
    }

    #[tokio::test]
    async fn a_signature_for_another_path_is_forbidden() {
        let app = spawn_app().await;
        let pairs = [("CallSid", "CA1"), ("From", PUSHY)];
        let signature =
            saidno::provider::twilio::signature::sign(AUTH_TOKEN, &format!("{PUBLIC_URL}/twilio/sms"), &params(&pairs));
        assert_eq!(app.post_form("/twilio/voice", form_body(&pairs), Some(&signature)).await.status(), 403);
    }

    #[tokio::test]
    async fn parameters_twilio_adds_without_notice_are_covered_by_the_signature() {
        let app = spawn_app().await;
        let pairs = [("CallSid", "CA1"), ("From", PUSHY), ("NewField", ""), ("NewField", "b"), ("Zeta", "z")];
        assert_eq!(app.post_signed("/twilio/voice", &pairs).await.status(), 200);
    }

    #[tokio::test]
    async fn a_sha256_signature_under_a_shared_key_is_accepted() {
        let app = spawn_app_with(|s| {
            s.twilio.signing_keys.insert("KS0001".into(), "shared-secret".into());
        })
        .await;
        let pairs = [("CallSid", "CA1"), ("From", "+442079460555")];
        let signature = saidno::provider::twilio::signature::sign_sha256(
            "shared-secret",
            &format!("{PUBLIC_URL}/twilio/voice"),
            &params(&pairs),
        );
        let response = app
            .http
            .post(app.url("/twilio/voice"))
            .header("content-type", "application/x-www-form-urlencoded")
            .header("x-twilio-signature", &signature)
            .header("x-twilio-webhooks-signature-settings", "key=KS0001,algorithm=HMAC_SHA256")
            .body(form_body(&pairs))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200);
        let response = app
            .http
            .post(app.url("/twilio/voice"))
            .header("content-type", "application/x-www-form-urlencoded")
            .header("x-twilio-signature", &signature)
            .header("x-twilio-webhooks-signature-settings", "key=KS0002,algorithm=HMAC_SHA256")
            .body(form_body(&pairs))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 403);
    }

    #[tokio::test]
    async fn without_public_url_the_signature_is_checked_against_the_host_asked_for() {
        let app = spawn_app_with(|s| s.public_url = String::new()).await;
        let pairs = [("CallSid", "CA1"), ("From", "+442079460555")];
        let signature = saidno::provider::twilio::signature::sign(
            AUTH_TOKEN,
            &format!("http://{}/twilio/voice", app.address),
            &params(&pairs),
        );
        assert_eq!(app.post_form("/twilio/voice", form_body(&pairs), Some(&signature)).await.status(), 200);
    }

    #[tokio::test]
    async fn a_missing_from_is_a_bad_request_and_not_recorded() {
        let app = spawn_app().await;
        let response = app.post_signed("/twilio/voice", &[("CallSid", "CA1"), ("To", BUSINESS_NUMBER)]).await;
        assert_eq!(response.status(), 400);
        assert!(response.text().await.unwrap().contains("From"));
        assert_nothing_logged(&app).await;
    }

    #[tokio::test]
    async fn a_malformed_body_is_a_bad_request() {
        let app = spawn_app().await;
        let body = b"CallSid=CA1&From=%FF%FE".to_vec();
        let response = app.post_form("/twilio/voice", body, Some("irrelevant")).await;
        assert_eq!(response.status(), 400);
        assert!(response.text().await.unwrap().contains("UTF-8"));
        assert_nothing_logged(&app).await;
    }

    #[tokio::test]
    async fn a_body_that_is_not_a_form_is_refused() {
        let app = spawn_app().await;
        let response = app
            .http
            .post(app.url("/twilio/voice"))
            .header("content-type", "application/json")
            .body(r#"{"From":"+442079460123"}"#)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 415);
        assert_nothing_logged(&app).await;
    }

    #[tokio::test]
    async fn an_oversized_body_is_refused_and_the_server_keeps_answering() {
        let app = spawn_app().await;
        let huge = format!("CallSid=CA1&From=%2B442079460123&Junk={}", "x".repeat(70 * 1024));
        let response = app.post_form("/twilio/voice", huge, Some("irrelevant")).await;
        assert_eq!(response.status(), 413);
        assert_nothing_logged(&app).await;
        assert_eq!(app.call("CA2", "+442079460555").await.verbs(), ["Dial"]);
    }

    #[tokio::test]
    async fn a_get_is_not_a_webhook() {
        let app = spawn_app().await;
        let response = app.http.get(app.url("/twilio/voice")).send().await.unwrap();
        assert_eq!(response.status(), 405);
    }
}

#[tokio::test]
async fn health_answers_ok() {
    let app = spawn_app().await;
    let response = app.http.get(app.url("/healthz")).send().await.unwrap();
    assert_eq!(response.status(), 200);
}

#[tokio::test]
async fn refusals_from_any_of_a_company_numbers_count_as_its_follow_ups() {
    let app = spawn_app().await;
    app.decline(json!({"number": PUSHY, "company": "Everest Windows"})).await;
    let joined = app.decline(json!({"number": "+442079460124", "company": "everest  WINDOWS"})).await;
    assert_eq!(joined["record"]["company"], "Everest Windows", "the second number joins the existing company");

    // Calls from one company come minutes apart, never faster than the log is written.
    for (sid, from) in [("CA600", PUSHY), ("CA601", "+442079460124"), ("CA602", PUSHY)] {
        app.call(sid, from).await;
        app.calls().await;
    }

    let calls = app.calls().await;
    let counts: Vec<_> = calls.iter().map(|c| c["follow_up"].clone()).collect();
    assert_eq!(counts, [json!(3), json!(2), json!(1)]);
    assert!(calls[0]["reason"].as_str().unwrap().ends_with("3rd call since"), "{}", calls[0]["reason"]);
}

#[tokio::test]
async fn a_caller_who_keeps_calling_hears_how_many_times_they_have_called_since() {
    let app = spawn_app().await;
    app.decline(json!({"number": PUSHY, "company": "Everest Windows"})).await;
    app.decline(json!({"number": "+442079460124", "company": "Everest Windows"})).await;
    let first = app.call("CA960", PUSHY).await;
    assert!(!first.text_of("Say")[0].contains("times since"), "{}", first.xml);
    app.calls().await; // the first call is in the log before the next one comes in
    let second = app.call("CA961", "+442079460124").await;
    assert!(second.text_of("Say")[0].contains("You have called 2 times since."), "{}", second.xml);
}
