/** Small DOM helpers for the VolMicro tab: elements with a class and children, key/value tables, message panels. */
import { RefCounted } from "neuroglancer/unstable/util/disposable.js";

export function el<K extends keyof HTMLElementTagNameMap>(
  tag: K, className?: string, ...children: Array<Node | string>
): HTMLElementTagNameMap[K] {
  const e = document.createElement(tag);
  if (className) e.className = className;
  e.append(...children);
  return e;
}

/** A tab content that is only a message (`className` adds e.g. "volmicro-error"). */
export function messagePanel(text: string, className: string): RefCounted & { element: HTMLElement } {
  const m = new RefCounted() as RefCounted & { element: HTMLElement };
  m.element = el("div", `volmicro-panel volmicro-message ${className}`, text);
  return m;
}

export function button(label: string, onClick: () => void, className = "volmicro-button"): HTMLButtonElement {
  const b = el("button", className, label);
  b.type = "button";
  b.addEventListener("click", onClick);
  return b;
}

/** A two-column table of facts; `set` replaces the rows (label, value, optional tooltip). */
export class FactTable {
  readonly element = el("table", "volmicro-facts");

  set(rows: Array<[string, string] | [string, string, string]>): void {
    this.element.replaceChildren(...rows.map(([k, v, title]) => {
      const tr = el("tr", "", el("th", "", k), el("td", "", v));
      tr.dataset["key"] = k;
      if (title) tr.title = title;
      return tr;
    }));
  }
}

export function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  if (n < 1024 ** 2) return `${(n / 1024).toFixed(1)} KiB`;
  if (n < 1024 ** 3) return `${(n / 1024 ** 2).toFixed(2)} MiB`;
  return `${(n / 1024 ** 3).toFixed(2)} GiB`;
}

/** Put `text` on the clipboard; false when the page may not (no focus, no permission). */
export async function copyText(text: string): Promise<boolean> {
  try {
    await navigator.clipboard.writeText(text);
    return true;
  } catch {
    const area = el("textarea");
    area.value = text;
    area.style.position = "fixed";
    area.style.opacity = "0";
    document.body.append(area);
    area.select();
    try {
      return document.execCommand("copy");
    } catch {
      return false;
    } finally {
      area.remove();
    }
  }
}
