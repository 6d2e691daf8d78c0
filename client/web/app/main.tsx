// The web app's entry: reads piecepay.json from the server, then renders the page.
import { render } from "preact";
import { App } from "./app.js";
import { loadConfig } from "./config.js";
import { explain } from "./errors.js";

const root = document.getElementById("app") as HTMLElement;
loadConfig().then(
  (config) => render(<App config={config} />, root),
  (error: unknown) => render(<p class="error">{explain(error)}</p>, root),
);
