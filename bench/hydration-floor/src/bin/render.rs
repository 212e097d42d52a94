//! Writes the server's page: the part rendered, its props, and the script that instantiates
//! the module, yields a task (as Hearth's page does) and hydrates.
use leptos::prelude::*;

fn main() {
    let expenses = hydration_floor::sample();
    let props = serde_json::to_string(&expenses).expect("plain data");
    let html =
        Owner::new_root(None).with(|| view! { <hydration_floor::Tracker expenses /> }.to_html());
    println!(
        "<!DOCTYPE html><html lang=en><head><meta charset=utf-8><title>Hydration floor</title></head>\
         <body>{html}<script id=props type=application/json>{props}</script>\
         <script type=module>const m = await import('/pkg/hydration_floor.js');\
         await m.default({{ module_or_path: '/pkg/hydration_floor_bg.wasm' }});\
         await new Promise((r) => setTimeout(r, 0)); m.hydrate();</script></body></html>"
    );
}
