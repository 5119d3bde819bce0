//! Kiosk components: one screen per step, big touch targets, every step a real form so it also
//! works with JavaScript off (the form posts to `/kiosk`; hydrated, the same form is handled
//! in the browser and only the final submit reaches the server).

use std::sync::Arc;

use leptos::prelude::*;
use leptos_meta::Title;

use super::flow::{after_submit, Context, Draft, Nav, Step, SKIP};
use super::server::{load_kiosk_setup, load_link_setup, submit_survey, KioskSetup, LinkReply, SubmitRefused};
use super::PostedDraft;
use crate::domain::questionnaire::ScaleLevel;
use crate::domain::submission::Verdict;

/// How a survey's setup travels in the page to the wasm that hydrates it: postcard (base64) is
/// decoded by far less code than JSON, and the kiosk and phone load this code first.
type SetupCodec = codee::binary::PostcardCodec;

#[component]
pub fn KioskPage() -> impl IntoView {
    let setup = Resource::<_, SetupCodec>::new_with_options(|| (), |_| load_kiosk_setup(), true);
    view! {
        <Title text="Khảo sát sự hài lòng" />
        <Suspense fallback=|| view! { <p class="page-message">"Đang tải…"</p> }>
            {move || Suspend::new(async move {
                match setup.await {
                    Ok(Some(setup)) => view! { <Survey setup=Arc::new(setup) /> }.into_any(),
                    Ok(None) => view! {
                        <main class="kiosk-message">
                            <h1>"Thiết bị chưa được đăng ký"</h1>
                            <p>"Máy tính bảng này chưa được ghép nối làm kiosk khảo sát, hoặc đã bị thu hồi. Xin quản trị viên một mã ghép nối rồi nhập ở trang ghép nối."</p>
                            // Pairing is a staff page, outside the survey app: a full page load.
                            <p><a class="button primary" href="/kiosk/pair" rel="external">"Ghép nối thiết bị"</a></p>
                        </main>
                    }.into_any(),
                    Err(error) => view! {
                        <main class="kiosk-message"><h1>"Có lỗi xảy ra"</h1><p>{error.to_string()}</p></main>
                    }.into_any(),
                }
            })}
        </Suspense>
    }
}

/// Mints the response id when the citizen starts: a random (v4) UUID.
fn new_response_id() -> String {
    #[cfg(feature = "hydrate")]
    let bytes = {
        let mut bytes = [0u8; 16];
        let crypto = window().crypto().expect("the browser offers crypto.getRandomValues");
        crypto.get_random_values_with_u8_array(&mut bytes).expect("random bytes");
        bytes
    };
    #[cfg(not(feature = "hydrate"))]
    let bytes = server_random_bytes();
    uuid::Builder::from_random_bytes(bytes).into_uuid().to_string()
}

#[cfg(all(not(feature = "hydrate"), feature = "ssr"))]
fn server_random_bytes() -> [u8; 16] {
    *uuid::Uuid::new_v4().as_bytes()
}

#[cfg(all(not(feature = "hydrate"), not(feature = "ssr")))]
fn server_random_bytes() -> [u8; 16] {
    unreachable!("ids are minted in the browser or on the server")
}

/// The survey a citizen opens from a link or QR code (`/s/{token}`), laid out for a phone.
#[component]
pub fn LinkSurveyPage() -> impl IntoView {
    // Just answered without JavaScript: the link is used up now, but this is the thank-you.
    if use_context::<PostedDraft>().is_some_and(|posted| posted.0.step == Step::Thanks) {
        return view! { <Title text="Xin cảm ơn" /><main class="kiosk phone">{thanks(false)}</main> }.into_any();
    }
    let params = leptos_router::hooks::use_params_map();
    let token = move || params.with(|p| p.get("token").unwrap_or_default());
    let setup = Resource::<_, SetupCodec>::new_with_options(token, load_link_setup, true);
    let closed = |title: &'static str, text: &'static str| {
        view! { <main class="kiosk-message"><h1>{title}</h1><p>{text}</p></main> }.into_any()
    };
    view! {
        <Title text="Khảo sát sự hài lòng" />
        <Suspense fallback=|| view! { <p class="page-message">"Đang tải…"</p> }>
            {move || Suspend::new(async move {
                match setup.await {
                    Ok(LinkReply::Ready(setup)) => view! { <Survey setup=Arc::new(*setup) /> }.into_any(),
                    Ok(LinkReply::Answered) => closed(
                        "Phiếu khảo sát đã được trả lời",
                        "Đường dẫn này chỉ dùng được một lần và đã có câu trả lời. Xin cảm ơn Ông/Bà.",
                    ),
                    Ok(LinkReply::Expired) => closed(
                        "Đường dẫn đã hết hạn",
                        "Thời gian trả lời phiếu khảo sát cho hồ sơ này đã kết thúc. Xin cảm ơn Ông/Bà.",
                    ),
                    Ok(LinkReply::Unknown) => closed(
                        "Không tìm thấy phiếu khảo sát",
                        "Đường dẫn không đúng. Vui lòng kiểm tra lại đường dẫn hoặc mã QR đã nhận.",
                    ),
                    Err(error) => view! {
                        <main class="kiosk-message"><h1>"Có lỗi xảy ra"</h1><p>{error.to_string()}</p></main>
                    }.into_any(),
                }
            })}
        </Suspense>
    }
    .into_any()
}

/// The survey screens, at a kiosk or from a link.
#[component]
fn Survey(setup: Arc<KioskSetup>) -> impl IntoView {
    let posted = use_context::<PostedDraft>();
    // A page rendered from a form post is never hydrated: its timers are meta refreshes.
    let hydrated = posted.is_none();
    let initial = posted.map(|p| p.0).unwrap_or_default();
    let draft = RwSignal::new(initial);
    let busy = RwSignal::new(false);
    let screen = StoredValue::new(0u64);
    // Surveys waiting in this browser to be sent (a kiosk that lost its network).
    let queued = RwSignal::new(0u32);
    let at_kiosk = setup.link.is_none();
    if at_kiosk {
        start_idle_timer(draft, &setup);
        if hydrated {
            super::offline::keep_working_offline(queued);
        }
    }

    let (phone, action) = (setup.link.is_some(), setup.form_action());
    let on_submit = {
        let setup = setup.clone();
        move |ev: leptos::ev::SubmitEvent| {
            ev.prevent_default();
            let (posted, nav) = Draft::from_form(&form_fields(&ev), &setup.questionnaire);
            if nav != Nav::Submit {
                let codes = setup.agency_codes();
                let context = Context { questionnaire: &setup.questionnaire, agencies: &codes };
                draft.set(posted.go(nav, &context, new_response_id));
                return;
            }
            if busy.get_untracked() {
                return;
            }
            busy.set(true);
            // A kiosk's survey may wait offline: it says the day it was answered.
            let posted = Draft { day: at_kiosk.then(super::offline::today), ..posted };
            let link = setup.link.clone();
            let questionnaire = setup.questionnaire.clone();
            leptos::task::spawn_local(async move {
                let verdict = match submit_survey(posted.clone(), link).await {
                    Ok(verdict) | Err(SubmitRefused::Judged { verdict, .. }) => verdict,
                    // No answer at all (offline without the service worker yet): the draft
                    // stays, to send again.
                    Err(SubmitRefused::Request(_)) => {
                        draft.set(Draft {
                            errors: vec!["Không gửi được phiếu do mất kết nối. Vui lòng bấm \"Gửi phiếu\" lại.".into()],
                            ..posted
                        });
                        busy.set(false);
                        return;
                    }
                };
                if verdict == Verdict::NotPaired {
                    // Revoked, or never paired: the tablet asks for a new pairing code.
                    let _ = window().location().set_href("/kiosk/pair?lost=1");
                }
                let next = after_submit(posted, &verdict, &questionnaire);
                draft.set(next);
                busy.set(false);
            });
        }
    };

    view! {
        <main class="kiosk" class:phone=phone data-step=move || draft.with(|d| d.step.encode())>
            <form method="post" action=action on:submit=on_submit>
                // Each screen is built afresh: patching the previous screen's radios in place
                // would keep the citizen's earlier taps as checked state.
                <For
                    each=move || {
                        let current = draft.get();
                        screen.update_value(|n| *n += 1);
                        [(screen.get_value(), current)]
                    }
                    key=|(n, _)| *n
                    children=move |(_, current)| step_view(current, &setup, busy, hydrated)
                />
            </form>
            <Show when=move || { queued.get() > 0 }>
                <p class="kiosk-queue" role="status">
                    {move || format!("{} phiếu chờ gửi", queued.get())}
                </p>
            </Show>
        </main>
    }
}

/// The posted fields of the form, plus the pressed button's `nav`.
fn form_fields(ev: &leptos::ev::SubmitEvent) -> Vec<(String, String)> {
    #[cfg(feature = "hydrate")]
    {
        use wasm_bindgen::JsCast;
        let mut fields = Vec::new();
        let form: web_sys::HtmlFormElement = ev.target().and_then(|t| t.dyn_into().ok()).expect("a form");
        if let Ok(data) = web_sys::FormData::new_with_form(&form) {
            if let Ok(Some(entries)) = js_sys::try_iter(&data) {
                for entry in entries.flatten() {
                    let pair: js_sys::Array = entry.unchecked_into();
                    if let (Some(k), Some(v)) = (pair.get(0).as_string(), pair.get(1).as_string()) {
                        fields.push((k, v));
                    }
                }
            }
        }
        if let Some(button) = ev.submitter() {
            if let (Some(k), Some(v)) = (button.get_attribute("name"), button.get_attribute("value")) {
                fields.push((k, v));
            }
        }
        fields
    }
    #[cfg(not(feature = "hydrate"))]
    {
        let _ = ev;
        Vec::new()
    }
}

/// 90 s without a touch discards the answers; the thank-you screen returns to welcome by itself.
fn start_idle_timer(draft: RwSignal<Draft>, setup: &KioskSetup) {
    #[cfg(feature = "hydrate")]
    {
        use std::time::Duration;
        let last_touch = StoredValue::new(js_sys::Date::now());
        let touched = move || last_touch.set_value(js_sys::Date::now());
        for listener in [
            window_event_listener(leptos::ev::pointerdown, move |_| touched()),
            window_event_listener(leptos::ev::keydown, move |_| touched()),
            window_event_listener(leptos::ev::input, move |_| touched()),
        ] {
            on_cleanup(move || listener.remove());
        }
        // Leaving a step resets the clock too (the thank-you screen counts from its arrival).
        Effect::new(move |_| {
            draft.with(|d| d.step);
            touched();
        });
        let (idle_ms, thanks_ms) = (f64::from(setup.idle_seconds) * 1000.0, f64::from(setup.thanks_seconds) * 1000.0);
        if let Ok(handle) = set_interval_with_handle(
            move || {
                let quiet = js_sys::Date::now() - last_touch.get_value();
                let limit = match draft.with_untracked(|d| d.step) {
                    Step::Welcome => return,
                    Step::Thanks => thanks_ms,
                    _ => idle_ms,
                };
                if quiet >= limit {
                    draft.set(Draft::default());
                }
            },
            Duration::from_millis(250),
        ) {
            on_cleanup(move || handle.clear());
        }
    }
    #[cfg(not(feature = "hydrate"))]
    let _ = (draft, setup);
}

fn step_view(draft: Draft, setup: &KioskSetup, busy: RwSignal<bool>, hydrated: bool) -> impl IntoView {
    let q = &setup.questionnaire;
    let hidden = draft
        .hidden_fields(q)
        .into_iter()
        .map(|(name, value)| view! { <input type="hidden" name=name value=value /> })
        .collect_view();
    let progress = draft.progress(q).map(|(n, total)| {
        view! {
            <p class="progress" aria-label=format!("Bước {n} trên {total}")>
                {format!("Bước {n}/{total}")}
                <progress max=total value=n></progress>
            </p>
        }
    });
    let errors = (!draft.errors.is_empty()).then(|| {
        view! {
            // The alert wraps the list: a role on the <ul> itself would take its list semantics away.
            <div role="alert">
                <ul class="errors">{draft.errors.iter().map(|e| view! { <li>{e.clone()}</li> }).collect_view()}</ul>
            </div>
        }
    });
    // Without JavaScript (a page rendered from a form post), a meta refresh plays the idle
    // timer. A hydrated page has its own timer and never carries one: it starts at the welcome
    // screen, and a refresh added to its DOM later would be obeyed (and is a WCAG failure).
    let refresh = match draft.step {
        _ if setup.link.is_some() || hydrated => None,
        Step::Welcome => None,
        Step::Thanks => Some(setup.thanks_seconds),
        _ => Some(setup.idle_seconds),
    }
    .map(|seconds| view! { <meta http-equiv="refresh" content=format!("{seconds};url=/kiosk") /> });
    let body = match draft.step {
        Step::Welcome => welcome(setup).into_any(),
        Step::Agency => agency_choice(setup, draft.agency.as_deref()).into_any(),
        Step::Element(i) => element(setup, i, &draft).into_any(),
        Step::Expectations => expectations(setup, &draft).into_any(),
        Step::Profile => profile(setup, &draft).into_any(),
        Step::Comment => comment(setup, &draft, busy).into_any(),
        Step::Thanks => thanks(setup.link.is_none()).into_any(),
    };
    view! {
        {hidden}
        {refresh}
        <header class="kiosk-header">
            <span class="point">{setup.point_name.clone()}</span>
            {progress}
        </header>
        {errors}
        {body}
    }
}

fn nav_button(nav: Nav, label: &'static str, class: &'static str) -> impl IntoView {
    view! { <button type="submit" name="nav" value=nav.as_str() class=class>{label}</button> }
}

fn nav_bar(next: impl IntoView) -> impl IntoView {
    view! { <nav class="step-nav">{nav_button(Nav::Back, "← Quay lại", "secondary")} {next}</nav> }
}

fn welcome(setup: &KioskSetup) -> impl IntoView {
    let procedure = setup.procedure.clone().map(|p| view! { <p class="procedure">"Thủ tục: "{p}</p> });
    view! {
        <section class="welcome">
            <h1>"Ông/Bà có hài lòng với sự phục vụ hôm nay?"</h1>
            <p class="lead">{setup.point_name.clone()}</p>
            {procedure}
            <p>"Phiếu khảo sát hoàn toàn ẩn danh: không ghi tên, số điện thoại hay mã hồ sơ. Chỉ mất khoảng 2 phút."</p>
            {nav_button(Nav::Start, "Bắt đầu", "primary big")}
        </section>
    }
}

fn agency_choice(setup: &KioskSetup, chosen: Option<&str>) -> impl IntoView {
    let options = setup
        .agencies
        .iter()
        .map(|(code, name)| {
            let checked = chosen == Some(code.as_str());
            view! {
                <label class="choice">
                    <input type="radio" name="agency" value=code.clone() checked=checked prop:checked=checked />
                    <span>{name.clone()}</span>
                </label>
            }
        })
        .collect_view();
    view! {
        <section>
            <fieldset class="question">
                <legend><h1>"Hồ sơ của Ông/Bà thuộc cơ quan nào?"</h1></legend>
                <div class="choices">{options}</div>
            </fieldset>
            {nav_bar(nav_button(Nav::Next, "Tiếp tục →", "primary"))}
        </section>
    }
}

/// A row of big level buttons (radios) plus a quieter "Bỏ qua" for one question. Nothing is
/// chosen until the citizen taps: a question left untouched counts as skipped. Satisfaction
/// levels (`faces`) carry a face and a colour, for citizens who read little.
fn levels(name: String, scale: &[ScaleLevel], current: Option<&str>, faces: bool) -> impl IntoView {
    let buttons = scale
        .iter()
        .map(|level| {
            let value = level.value.to_string();
            let checked = current == Some(value.as_str());
            view! {
                <label class=format!("level level-{}", level.value)>
                    <input type="radio" name=name.clone() value=value.clone() checked=checked prop:checked=checked />
                    {faces.then(|| face(level.value))}
                    <span class="level-number">{value}</span>
                    <span class="level-label">{level.label.clone()}</span>
                </label>
            }
        })
        .collect_view();
    view! {
        <div class="levels" class:faces=faces>
            {buttons}
            <label class="level skip">
                <input type="radio" name=name.clone() value=SKIP prop:checked=false />
                <span class="level-label">"Bỏ qua"</span>
            </label>
        </div>
    }
}

/// A face from very unhappy (1) to very happy (5): the mouth bends with the level.
fn face(level: u8) -> impl IntoView {
    let mouth = match level {
        1 => "M14 36 Q24 25 34 36",
        2 => "M15 35 Q24 30 33 35",
        3 => "M15 33 L33 33",
        4 => "M15 31 Q24 37 33 31",
        _ => "M14 30 Q24 41 34 30",
    };
    view! {
        <svg class="face" viewBox="0 0 48 48" aria-hidden="true" focusable="false">
            <circle class="face-round" cx="24" cy="24" r="21" />
            <circle class="face-eye" cx="17" cy="19" r="3" />
            <circle class="face-eye" cx="31" cy="19" r="3" />
            <path class="face-mouth" d=mouth />
        </svg>
    }
}

fn element(setup: &KioskSetup, index: usize, draft: &Draft) -> impl IntoView {
    let q = &setup.questionnaire;
    let Some(element) = q.elements.get(index) else { return welcome(setup).into_any() };
    let criteria = element
        .criteria
        .iter()
        .map(|c| {
            view! {
                <fieldset class="question">
                    <legend><span class="code">{c.code.clone()}</span>" "{c.text.clone()}</legend>
                    {levels(format!("a-{}", c.code), &q.scale, draft.answers.get(&c.code).map(String::as_str), true)}
                </fieldset>
            }
        })
        .collect_view();
    view! {
        <section>
            <h1><span class="code">{element.code.clone()}</span>" "{element.title.clone()}</h1>
            {criteria}
            {nav_bar(nav_button(Nav::Next, "Tiếp tục →", "primary"))}
        </section>
    }
    .into_any()
}

fn expectations(setup: &KioskSetup, draft: &Draft) -> impl IntoView {
    let x = &setup.questionnaire.expectations;
    let areas = x
        .areas
        .iter()
        .map(|a| {
            view! {
                <fieldset class="question compact">
                    <legend>{a.text.clone()}</legend>
                    {levels(format!("x-{}", a.code), &x.scale, draft.expectations.get(&a.code).map(String::as_str), false)}
                </fieldset>
            }
        })
        .collect_view();
    view! {
        <section>
            <h1>"Sự mong đợi"</h1>
            <p class="lead">{x.prompt.clone()}</p>
            {areas}
            {nav_bar(nav_button(Nav::Next, "Tiếp tục →", "primary"))}
        </section>
    }
}

fn profile(setup: &KioskSetup, draft: &Draft) -> impl IntoView {
    let questions = setup
        .questionnaire
        .profile
        .iter()
        .map(|question| {
            let name = format!("p-{}", question.code);
            let current = draft.profile.get(&question.code).cloned();
            let options = question
                .options
                .iter()
                .map(|o| {
                    let checked = current.as_deref() == Some(o.code.as_str());
                    view! {
                        <label class="choice">
                            <input type="radio" name=name.clone() value=o.code.clone() checked=checked prop:checked=checked />
                            <span>{o.label.clone()}</span>
                        </label>
                    }
                })
                .collect_view();
            view! {
                <fieldset class="question">
                    <legend>{question.label.clone()}</legend>
                    <div class="choices">
                        {options}
                        <label class="choice skip">
                            <input type="radio" name=name.clone() value=SKIP prop:checked=false />
                            <span>"Không trả lời"</span>
                        </label>
                    </div>
                </fieldset>
            }
        })
        .collect_view();
    view! {
        <section>
            <h1>"Thông tin về Ông/Bà (không bắt buộc)"</h1>
            <p class="lead">"Chỉ dùng để thống kê theo nhóm; không thể dùng để nhận ra Ông/Bà."</p>
            {questions}
            {nav_bar(nav_button(Nav::Next, "Tiếp tục →", "primary"))}
        </section>
    }
}

fn comment(setup: &KioskSetup, draft: &Draft, busy: RwSignal<bool>) -> impl IntoView {
    let rule = &setup.questionnaire.comment;
    let text = draft.comment.clone();
    view! {
        <section>
            <h1>"Ý kiến khác"</h1>
            <label class="comment">
                <span>{rule.label.clone()}</span>
                <textarea name="comment" rows="5" maxlength=rule.max_chars prop:value=text.clone()>{text.clone()}</textarea>
            </label>
            <nav class="step-nav">
                {nav_button(Nav::Back, "← Quay lại", "secondary")}
                <button type="submit" name="nav" value=Nav::Submit.as_str() class="primary" disabled=move || busy.get()>
                    {move || if busy.get() { "Đang gửi…" } else { "Gửi phiếu" }}
                </button>
            </nav>
        </section>
    }
}

fn thanks(at_kiosk: bool) -> impl IntoView {
    view! {
        <section class="welcome thanks" role="status">
            <h1>"Xin cảm ơn Ông/Bà!"</h1>
            <p class="lead">"Ý kiến của Ông/Bà đã được ghi nhận và giúp cơ quan phục vụ tốt hơn."</p>
            {if at_kiosk {
                nav_button(Nav::Restart, "Về màn hình đầu", "secondary big").into_any()
            } else {
                view! { <p>"Ông/Bà có thể đóng trang này."</p> }.into_any()
            }}
        </section>
    }
}
