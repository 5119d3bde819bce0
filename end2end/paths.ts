import path from "node:path";

// Absolute paths, so that the server can run from a folder that is not the checkout (it must
// serve its styles, scripts and wasm from the binary itself).
export const ROOT = path.resolve(__dirname, "..");
export const BIN = process.env.HAILONG_BIN ?? path.join(ROOT, "target/release/hailong");
export const E2E_DIR = path.join(ROOT, "target/e2e");
export const DATABASE_URL = `sqlite://${path.join(E2E_DIR, "hailong.db")}`;
