// mimalloc: parsing a thousand procedures on every core is mostly small
// allocations, which glibc's per-thread arenas serve slowly.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
    procdoc::cli::run()
}
