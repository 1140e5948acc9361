/**
 * `#include "name.wgsl"` for WGSL, resolved when a shader module is built: each directive (alone
 * on its line) is replaced by the named chunk, at most once per shader, so a chunk that several
 * shaders share (the kernel) is written once. An unknown name is an error naming the shader.
 */
const INCLUDE = /^[ \t]*#include[ \t]+"([^"]+)"[ \t]*$/gm;

export function resolveIncludes(source: string, chunks: Readonly<Record<string, string>>, shader: string, done = new Set<string>()): string {
  return source.replace(INCLUDE, (_line, name: string) => {
    const chunk = chunks[name];
    if (chunk === undefined) throw new Error(`${shader}: #include "${name}": no such WGSL chunk (have: ${Object.keys(chunks).join(", ") || "none"})`);
    if (done.has(name)) return "";
    done.add(name);
    return resolveIncludes(chunk, chunks, name, done);
  });
}
