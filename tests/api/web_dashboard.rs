//! The dashboard answers whether blocking is working: counts that link to the calls they count, a
//! chart with an axis, a legend and three series, and the calls after a no week by week.

use serde_json::json;

use crate::helpers::*;

/// Today in UTC, as the test app's dashboard reckons days.
fn today() -> String {
    jiff::Timestamp::now().to_zoned_datetime(jiff::tz::TimeZone::UTC).date().to_string()
}

#[tokio::test]
async fn cards_and_bars_link_to_the_calls_they_count_and_calls_after_a_no_are_counted_by_week() {
    // The page counts by day and week: a run that crosses midnight is made again on a fresh app,
    // which then cannot cross it.
    for _ in 0..2 {
        let today = today();
        let app = spawn_app().await;
        app.decline(json!({"number": PUSHY, "company": "Everest Windows"})).await;
        app.call("CA700", PUSHY).await;
        app.call("CA701", PUSHY).await;
        app.call("CA702", "+442079460555").await;
        let browser = app.signed_in().await;
        let page = browser.get("/").await;
        let listed = browser.get(&format!("/calls?decision=decline&from_date={today}&to_date={today}")).await;
        if self::today() != today {
            continue;
        }

        let refused = page.attributes("#today a.refused", "href");
        assert_eq!(refused, [format!("/calls?decision=decline&from_date={today}&to_date={today}")]);
        assert_eq!(listed.texts("tr.call").len(), 2, "the link lists exactly the calls the card counts");
        assert!(page.text_of("#today a.refused").contains("2 refused"));
        assert_eq!(
            page.attributes("#today a.forwarded", "href")[0],
            format!("/calls?decision=forward&from_date={today}&to_date={today}")
        );

        let bars = page.attributes("#chart a.bar", "href");
        assert_eq!(bars.len(), 30);
        assert_eq!(bars.last().unwrap(), &format!("/calls?from_date={today}&to_date={today}"));
        assert_eq!(page.texts("#chart rect.bar-other").len(), 30, "screened calls are a series of their own");
        assert_eq!(page.texts("#chart text.tick"), ["0", "3"], "the axis runs from nothing to the tallest day");
        assert_eq!(page.texts("#legend li"), ["forwarded", "screened or after hours", "refused"]);

        let weeks = page.texts("#after-no tr.week .calls");
        assert_eq!(weeks.len(), 8);
        assert_eq!(weeks.last().unwrap(), "2", "this week's calls after a no");
        assert_eq!(page.texts("#after-no tr.week td:first-child").last().unwrap(), "this week");
        assert!(!page.text_of("#after-no-trend").is_empty());
        return;
    }
    panic!("two runs in a row crossed midnight");
}
