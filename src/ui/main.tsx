/** @jsxImportSource hono/jsx/dom */
/** The browser entry point: mount the app into index.html's #app. */
import { render } from "hono/jsx/dom";
import { App } from "./app.tsx";

const root = document.getElementById("app");
if (root) render(<App />, root);
