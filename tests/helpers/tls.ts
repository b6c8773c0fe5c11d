/**
 * A private certificate authority for TLS tests, made with openssl.
 */
import assert from "node:assert/strict";

/** A CA and a certificate for 127.0.0.1 that it signed, made with openssl in `dir`. */
export async function makeCa(dir: string): Promise<{ ca: string; cert: string; key: string }> {
  const openssl = async (...args: string[]) => {
    const { code, stderr } = await new Deno.Command("openssl", { args, cwd: dir, stdout: "null" })
      .output();
    assert.equal(code, 0, new TextDecoder().decode(stderr));
  };
  await openssl(
    "req",
    "-x509",
    "-newkey",
    "rsa:2048",
    "-nodes",
    "-keyout",
    "ca.key",
    "-out",
    "ca.pem",
    "-days",
    "2",
    "-subj",
    "/CN=taskpool test CA",
  );
  await openssl(
    "req",
    "-newkey",
    "rsa:2048",
    "-nodes",
    "-keyout",
    "leaf.key",
    "-out",
    "leaf.csr",
    "-subj",
    "/CN=127.0.0.1",
  );
  await Deno.writeTextFile(`${dir}/ext.cnf`, "subjectAltName=IP:127.0.0.1,DNS:localhost\n");
  await openssl(
    "x509",
    "-req",
    "-in",
    "leaf.csr",
    "-CA",
    "ca.pem",
    "-CAkey",
    "ca.key",
    "-CAcreateserial",
    "-out",
    "leaf.pem",
    "-days",
    "2",
    "-extfile",
    "ext.cnf",
  );
  const read = (name: string) => Deno.readTextFile(`${dir}/${name}`);
  return { ca: await read("ca.pem"), cert: await read("leaf.pem"), key: await read("leaf.key") };
}
