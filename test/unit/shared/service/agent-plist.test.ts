import { describe, expect, test } from "bun:test";
import { AppError } from "../../../../src/shared/errors.ts";
import { renderAgentPlist } from "../../../../src/shared/service/agent-plist.ts";

/**
 * A strict XML reader for what a plist may contain: prolog, DOCTYPE, comments, elements
 * with quoted attributes, text with the five entities and character references. Anything
 * else (an unescaped "&" or "<", a stray close tag, two roots) throws.
 */
interface XmlElement {
  name: string;
  children: XmlElement[];
  text: string;
}

function parseXml(source: string): XmlElement {
  let i = 0;
  const fail = (why: string): never => {
    throw new Error(`${why} at offset ${i}: ${JSON.stringify(source.slice(i, i + 30))}`);
  };
  const skipMisc = () => {
    for (;;) {
      while (/\s/.test(source[i] ?? "")) i++;
      if (source.startsWith("<!--", i)) {
        const end = source.indexOf("-->", i + 4);
        if (end === -1) fail("unclosed comment");
        if (source.slice(i + 4, end).includes("--")) fail("'--' inside a comment");
        i = end + 3;
      } else if (source.startsWith("<?", i)) {
        const end = source.indexOf("?>", i);
        if (end === -1) fail("unclosed processing instruction");
        i = end + 2;
      } else if (source.startsWith("<!DOCTYPE", i)) {
        const end = source.indexOf(">", i);
        if (end === -1) fail("unclosed DOCTYPE");
        i = end + 1;
      } else return;
    }
  };
  const decode = (text: string) => {
    if (text.includes("<")) fail("'<' in text");
    return text.replace(/&([^;]*);?/g, (whole, ref: string) => {
      if (!whole.endsWith(";")) fail("'&' without ';'");
      const named: Record<string, string> = { amp: "&", lt: "<", gt: ">", quot: '"', apos: "'" };
      if (ref in named) return named[ref] as string;
      const code = /^#x[0-9a-f]+$/i.test(ref)
        ? Number.parseInt(ref.slice(2), 16)
        : /^#\d+$/.test(ref)
          ? Number(ref.slice(1))
          : fail(`unknown entity &${ref};`);
      return String.fromCodePoint(code);
    });
  };
  const element = (): XmlElement => {
    const open =
      /^<([A-Za-z_][\w.-]*)((?:\s+[A-Za-z_][\w.-]*\s*=\s*(?:"[^"<&]*"|'[^'<&]*'))*)\s*(\/?)>/.exec(
        source.slice(i),
      );
    if (!open) return fail("bad start tag");
    const name = open[1] as string;
    i += open[0].length;
    const node: XmlElement = { name, children: [], text: "" };
    if (open[3] === "/") return node;
    for (;;) {
      const next = source.indexOf("<", i);
      if (next === -1) fail(`unclosed <${name}>`);
      node.text += decode(source.slice(i, next));
      i = next;
      if (source.startsWith("<!--", i)) skipMisc();
      else if (source.startsWith(`</${name}`, i)) {
        const close = /^<\/([\w.-]+)\s*>/.exec(source.slice(i));
        if (close?.[1] !== name) fail(`expected </${name}>`);
        i += (close as RegExpExecArray)[0].length;
        return node;
      } else if (source.startsWith("</", i)) fail(`mismatched close tag inside <${name}>`);
      else node.children.push(element());
    }
  };
  skipMisc();
  const root = element();
  skipMisc();
  if (i !== source.length) fail("content after the root element");
  return root;
}

type PlistValue = string | number | boolean | PlistValue[] | { [key: string]: PlistValue };

function plistValue(node: XmlElement): PlistValue {
  switch (node.name) {
    case "string":
      return node.text;
    case "integer":
      if (!/^-?\d+$/.test(node.text)) throw new Error(`bad integer ${node.text}`);
      return Number(node.text);
    case "true":
    case "false":
      if (node.children.length || node.text.trim()) throw new Error(`<${node.name}/> has content`);
      return node.name === "true";
    case "array":
      return node.children.map(plistValue);
    case "dict": {
      const out: Record<string, PlistValue> = {};
      for (let k = 0; k < node.children.length; k += 2) {
        const key = node.children[k];
        const value = node.children[k + 1];
        if (key?.name !== "key" || !value) throw new Error("dict must alternate <key> and a value");
        out[key.text] = plistValue(value);
      }
      return out;
    }
    default:
      throw new Error(`<${node.name}> is not a plist value`);
  }
}

function parsePlist(source: string): PlistValue {
  const root = parseXml(source);
  if (root.name !== "plist" || root.children.length !== 1) throw new Error("not a plist");
  return plistValue(root.children[0] as XmlElement);
}

const CONFIG = "/Library/Application Support/borgctl/agent.toml";

describe("agent launchd plist", () => {
  test("the strict reader refuses what is not well-formed (so its passing means something)", () => {
    expect(() => parseXml("<a><b></a></b>")).toThrow();
    expect(() => parseXml("<a>x & y</a>")).toThrow();
    expect(() => parseXml("<a></a><b/>")).toThrow();
    expect(() => parseXml("<a x=1/>")).toThrow();
    expect(parseXml("<a>x &amp; &#x3c;</a>").text).toBe("x & <");
  });

  test("is a well-formed plist that runs `agent run --config` as a background daemon", () => {
    const text = renderAgentPlist({ config: CONFIG });
    expect(text.startsWith('<?xml version="1.0" encoding="UTF-8"?>\n<!DOCTYPE plist')).toBe(true);
    expect(parsePlist(text)).toEqual({
      Label: "io.github.borgctl.agent",
      ProgramArguments: ["/usr/local/bin/borgctl", "agent", "run", "--config", CONFIG],
      RunAtLoad: true,
      KeepAlive: { SuccessfulExit: false },
      ThrottleInterval: 30,
      ExitTimeOut: 60,
      ProcessType: "Background",
      Nice: 10,
      LowPriorityIO: true,
      LowPriorityBackgroundIO: true,
      EnvironmentVariables: {
        PATH: "/opt/homebrew/bin:/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin",
      },
      StandardOutPath: "/Library/Logs/borgctl-agent.log",
      StandardErrorPath: "/Library/Logs/borgctl-agent.log",
    });
  });

  test("escapes XML in values and keeps them exact", () => {
    const config = "/Users/a&b/<odd> dir/agent.toml";
    const text = renderAgentPlist({ config, binary: "/opt/bin/borgctl", label: "org.example.a" });
    expect(text).toContain("<string>/Users/a&amp;b/&lt;odd&gt; dir/agent.toml</string>");
    const plist = parsePlist(text) as Record<string, PlistValue>;
    expect(plist.ProgramArguments).toEqual([
      "/opt/bin/borgctl",
      "agent",
      "run",
      "--config",
      config,
    ]);
    expect(plist.Label).toBe("org.example.a");
  });

  test("refuses relative paths, control characters and a label that is not reverse-DNS", () => {
    const refused = (fn: () => unknown) => {
      expect(fn).toThrow(AppError);
      try {
        fn();
      } catch (error) {
        expect((error as AppError).code).toBe("validation_failed");
      }
    };
    refused(() => renderAgentPlist({ config: "agent.toml" }));
    refused(() => renderAgentPlist({ config: CONFIG, binary: "borgctl" }));
    refused(() => renderAgentPlist({ config: "/tmp/a\u0001b" }));
    refused(() => renderAgentPlist({ config: CONFIG, label: "bad label" }));
  });
});
