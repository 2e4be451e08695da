//! `gen` blocks would write the ticker reader for us, but they are nightly-only.
//!
//!     rustc --edition 2024 listings/ch05/compile_fail/gen_block.rs

fn main() {
    // ANCHOR: gen
    let pages = [[10_000, 10_319, 10_238], [10_157, 10_076, 10_395]];
    // The compiler would turn this block into a state machine like
    // `TickerReader`: a suspension point at each `yield`.
    let prices = gen {
        for page in pages {
            for price in page {
                yield price;
            }
        }
    };
    for price in prices {
        println!("{price}");
    }
    // ANCHOR_END: gen
}
