//! The "Who spent" breakdown of the month (from the page's parts chunk, with the charts).

use super::board::Board;
use crate::money::format_minor;
use leptos::prelude::*;

/// Who spent what this month: each member's amount and share of the month's spending, live
/// with the list (its own expenses on their way included).
#[component]
pub(crate) fn MemberBreakdown(digits: u8) -> impl IntoView {
    let board = expect_context::<Board>();
    let me = board.me;
    let members = move || board.ledger.with(|l| l.spent_by_member(me));
    view! {
        <section class="card" data-testid="member-breakdown">
            <h2>"Who spent"</h2>
            <ul class="spenders">
                {move || {
                    let members = members();
                    let total = members.iter().map(|m| m.spent_minor).fold(0i64, i64::saturating_add);
                    members
                        .into_iter()
                        .map(|m| {
                            let share = m.share_of(total);
                            let colour = format!("who c{}", board.ledger.with_untracked(|l| l.member_colour(m.user_id)));
                            view! {
                                <li data-member=m.display_name.clone() data-spent-minor=m.spent_minor>
                                    <span class=colour>{m.display_name.clone()}</span>
                                    <span class="amount">{format_minor(m.spent_minor, digits)}</span>
                                    <span class="share">{format!("{share}%")}</span>
                                    <meter min="0" max="100" value=share aria-label=format!("{}'s share", m.display_name)>{format!("{share}%")}</meter>
                                </li>
                            }
                        })
                        .collect_view()
                }}
            </ul>
        </section>
    }
}
