package vendorportal.licensing;

import java.io.FileDescriptor;
import java.io.FileOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.PublicKey;
import java.security.Signature;
import java.security.spec.X509EncodedKeySpec;
import java.time.LocalDate;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Base64;
import java.util.Collection;
import java.util.Collections;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;

/**
 * Offline verifier of module licence keys (LIC-1, LIC-2, LIC-3, LIC-4, LIC-6, LIC-9, LIC-12).
 *
 * <p>The Java twin of {@code licensing/verifier.py}: the same input normalisation, payload layout
 * and verdicts, checked against each other on thousands of shared test vectors in {@code make
 * test}. Java 17 or newer, no dependencies: Ed25519 is the JDK's own (JEP 339). A module copies
 * this one file (or the jar) and the vendor's public key; nothing is looked up on a network.
 *
 * <p>A licence key is {@code payload || Ed25519 signature (64 bytes)} in Crockford base32
 * ({@code 0123456789ABCDEFGHJKMNPQRSTVWXYZ}, no padding) in groups of five joined by {@code -}.
 * The payload is big-endian:
 *
 * <pre>
 * offset bytes field
 * 0      1     format version (1)
 * 1      2     key id: first 2 bytes of SHA-256 of the raw 32-byte public key
 * 3      4     licence serial
 * 7      4     module digest: first 4 bytes of SHA-256 of the article code
 * 11     6     licensed version major, minor, patch (3 x u16)
 * 17     2     user limit (0 = unlimited, tier "&gt;250")
 * 19     2     expiry, days since 2000-01-01 (0 = none; valid through that day)
 * 21     1     flags: bit 0 demo, bit 1 subscription, bit 2 goodwill
 * 22     1     binding count n (1..8)
 * 23     8*n   binding digests: first 8 bytes of SHA-256 of
 *              "LIC1|" + kind + "|" + normalised identifier (UTF-8)
 * </pre>
 *
 * <p>Checks run in the order of the verdict codes (LIC-3): {@code server-key-entered}, {@code
 * mistyped}, {@code other-module}, {@code other-server-key}, {@code expired}, {@code
 * paid-update-needed}, {@code valid}. Each verdict comes with the German sentence the portal's
 * key self-check shows ({@code licensing.rules.diagnosis_message}).
 *
 * <p>Where Python and Java differ in what a "space" or "upper case" is, this class does what
 * Python does ({@link #isPythonSpace}), so both accept exactly the same keys.
 */
public final class LicenseVerifier {

    // --- Verdict codes (LIC-3), as in licensing/verifier.py -----------------------------------

    public static final String SERVER_KEY_ENTERED = "server-key-entered";
    public static final String MISTYPED = "mistyped";
    public static final String OTHER_MODULE = "other-module";
    public static final String OTHER_SERVER_KEY = "other-server-key";
    public static final String EXPIRED = "expired";
    public static final String PAID_UPDATE_NEEDED = "paid-update-needed";
    public static final String VALID = "valid";

    /** What identifies the installation a key is bound to (LIC-1). */
    public enum IdentifierKind {
        /** Server licence key, {@code ABCDE-12345-FGHIJ-67890}. */
        SERVER_KEY("server_key"),
        /** Hardware ID of a STARFACE Free Edition. */
        HARDWARE_ID("hardware_id");

        private final String wireName;

        IdentifierKind(String wireName) {
            this.wireName = wireName;
        }

        /** The name hashed into binding digests ({@code server_key}, {@code hardware_id}). */
        public String wireName() {
            return wireName;
        }
    }

    public static final int FORMAT_VERSION = 1;
    public static final int MAX_BINDINGS = 8;
    public static final int FLAG_DEMO = 0x01;
    public static final int FLAG_SUBSCRIPTION = 0x02;
    public static final int FLAG_GOODWILL = 0x04;
    private static final int KNOWN_FLAGS = FLAG_DEMO | FLAG_SUBSCRIPTION | FLAG_GOODWILL;
    private static final int SIGNATURE_SIZE = 64;
    private static final int BINDING_SIZE = 8;
    private static final int HEADER_SIZE = 23;
    private static final int MIN_KEY_BYTES = HEADER_SIZE + BINDING_SIZE + SIGNATURE_SIZE; // 95
    private static final int MAX_KEY_BYTES = HEADER_SIZE + MAX_BINDINGS * BINDING_SIZE + SIGNATURE_SIZE;
    private static final int MAX_KEY_CHARS = (MAX_KEY_BYTES * 8 + 4) / 5; // 242
    private static final LocalDate EXPIRY_EPOCH = LocalDate.of(2000, 1, 1);

    public static final String ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";
    private static final int[] DIGIT = new int[128];

    static {
        Arrays.fill(DIGIT, -1);
        for (int value = 0; value < ALPHABET.length(); value++) {
            char c = ALPHABET.charAt(value);
            DIGIT[c] = value;
            DIGIT[Character.toLowerCase(c)] = value;
        }
        // Crockford's reading aids: O looks like 0, I and L look like 1.
        DIGIT['O'] = DIGIT['o'] = 0;
        DIGIT['I'] = DIGIT['i'] = DIGIT['L'] = DIGIT['l'] = 1;
    }

    // SubjectPublicKeyInfo of an Ed25519 key: this 12-byte DER prefix, then the raw 32 bytes.
    private static final byte[] SPKI_PREFIX = HexFormat.of().parseHex("302a300506032b6570032100");

    // --- The decoded key -------------------------------------------------------------------------

    /** What a licence key says (after its signature held). */
    public static final class Payload {
        private final int keyId;
        private final long serial;
        private final byte[] moduleDigest;
        private final int[] version;
        private final int userLimit;
        private final LocalDate expiry;
        private final int flags;
        private final List<byte[]> bindings;

        private Payload(int keyId, long serial, byte[] moduleDigest, int[] version, int userLimit,
                LocalDate expiry, int flags, List<byte[]> bindings) {
            this.keyId = keyId;
            this.serial = serial;
            this.moduleDigest = moduleDigest;
            this.version = version;
            this.userLimit = userLimit;
            this.expiry = expiry;
            this.flags = flags;
            this.bindings = bindings;
        }

        /** Id of the signing key (rotated keys keep verifying while their public key is listed). */
        public int keyId() {
            return keyId;
        }

        /** Licence serial (u32). */
        public long serial() {
            return serial;
        }

        public byte[] moduleDigest() {
            return moduleDigest.clone();
        }

        /** Licensed version as major, minor, patch. */
        public int[] version() {
            return version.clone();
        }

        /** {@code "3.2.0"}: all three parts, as the Python verifier writes it. */
        public String versionText() {
            return version[0] + "." + version[1] + "." + version[2];
        }

        /** User limit, or {@code null} for unlimited (tier "&gt;250"). */
        public Integer userLimit() {
            return userLimit == 0 ? null : userLimit;
        }

        /** Last valid day of a demo key (LIC-6), {@code null} for keys without expiry. */
        public LocalDate expiry() {
            return expiry;
        }

        public boolean demo() {
            return (flags & FLAG_DEMO) != 0;
        }

        /** Subscription key: passes the paid-update check (LIC-12). */
        public boolean subscription() {
            return (flags & FLAG_SUBSCRIPTION) != 0;
        }

        /** Issued free of charge as a replacement (LIC-10). */
        public boolean goodwill() {
            return (flags & FLAG_GOODWILL) != 0;
        }

        public int flags() {
            return flags;
        }

        /** Binding digests (8 bytes each), one per installation (LIC-9: primary + secondary). */
        public List<byte[]> bindings() {
            List<byte[]> copy = new ArrayList<>();
            for (byte[] binding : bindings) {
                copy.add(binding.clone());
            }
            return Collections.unmodifiableList(copy);
        }
    }

    /** Verdict on a key (LIC-3). {@link #payload()} is set only once the signature held. */
    public static final class Result {
        private final String code;
        private final String message;
        private final Payload payload;

        private Result(String code, String message, Payload payload) {
            this.code = code;
            this.message = message;
            this.payload = payload;
        }

        /** True only for {@link LicenseVerifier#VALID}: the module may run. */
        public boolean ok() {
            return VALID.equals(code);
        }

        /** One of the verdict codes, e.g. {@code "other-server-key"}. */
        public String code() {
            return code;
        }

        /** The German sentence that says what to do (as the portal's key self-check says it). */
        public String message() {
            return message;
        }

        public Payload payload() {
            return payload;
        }

        @Override
        public String toString() {
            return code + ": " + message;
        }
    }

    private static final class MalformedKey extends Exception {
        private static final long serialVersionUID = 1L;

        MalformedKey(String message) {
            super(message, null, false, false);
        }
    }

    // --- Construction ------------------------------------------------------------------------

    private final Map<Integer, PublicKey> publicKeys;

    private LicenseVerifier(Map<Integer, PublicKey> publicKeys) {
        if (publicKeys.isEmpty()) {
            throw new IllegalArgumentException("at least one public key is needed");
        }
        this.publicKeys = Collections.unmodifiableMap(publicKeys);
    }

    /**
     * A verifier for keys signed by any of these public keys, each a PEM {@code PUBLIC KEY}
     * (SubjectPublicKeyInfo, as {@code openssl pkey -pubout} writes it). List a rotated old key too
     * and its keys keep verifying.
     *
     * @throws IllegalArgumentException when a text is not an Ed25519 public key in PEM
     */
    public static LicenseVerifier fromPem(String... pems) {
        Map<Integer, PublicKey> keys = new LinkedHashMap<>();
        for (String pem : pems) {
            byte[] raw = rawFromPem(pem);
            keys.put(keyIdForRaw(raw), publicKeyFromRaw(raw));
        }
        return new LicenseVerifier(keys);
    }

    /** A verifier for raw 32-byte Ed25519 public keys. */
    public static LicenseVerifier fromRawPublicKeys(byte[]... rawKeys) {
        Map<Integer, PublicKey> keys = new LinkedHashMap<>();
        for (byte[] raw : rawKeys) {
            if (raw == null || raw.length != 32) {
                throw new IllegalArgumentException("an Ed25519 public key has 32 bytes");
            }
            keys.put(keyIdForRaw(raw), publicKeyFromRaw(raw));
        }
        return new LicenseVerifier(keys);
    }

    /** Key ids (u16) of the public keys this verifier accepts. */
    public Collection<Integer> keyIds() {
        return publicKeys.keySet();
    }

    private static byte[] rawFromPem(String pem) {
        Objects.requireNonNull(pem, "pem");
        String begin = "-----BEGIN PUBLIC KEY-----";
        String end = "-----END PUBLIC KEY-----";
        int from = pem.indexOf(begin);
        int to = pem.indexOf(end);
        if (from < 0 || to < from) {
            throw new IllegalArgumentException("not a PEM public key (-----BEGIN PUBLIC KEY-----)");
        }
        byte[] der;
        try {
            der = Base64.getMimeDecoder().decode(pem.substring(from + begin.length(), to).trim());
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("the PEM public key is not valid base64", e);
        }
        if (der.length != SPKI_PREFIX.length + 32
                || !Arrays.equals(Arrays.copyOf(der, SPKI_PREFIX.length), SPKI_PREFIX)) {
            throw new IllegalArgumentException("not an Ed25519 public key");
        }
        return Arrays.copyOfRange(der, SPKI_PREFIX.length, der.length);
    }

    private static PublicKey publicKeyFromRaw(byte[] raw) {
        byte[] der = Arrays.copyOf(SPKI_PREFIX, SPKI_PREFIX.length + 32);
        System.arraycopy(raw, 0, der, SPKI_PREFIX.length, 32);
        try {
            return KeyFactory.getInstance("Ed25519").generatePublic(new X509EncodedKeySpec(der));
        } catch (GeneralSecurityException e) {
            throw new IllegalArgumentException("not an Ed25519 public key: " + e.getMessage(), e);
        }
    }

    /** Key id of a signing key: first 2 bytes of SHA-256 of its raw public key. */
    public static int keyIdForRaw(byte[] raw) {
        byte[] digest = sha256(raw);
        return ((digest[0] & 0xff) << 8) | (digest[1] & 0xff);
    }

    // --- Verification ------------------------------------------------------------------------

    /**
     * Check a key for this module on the installation with this server licence key, today.
     * Same as {@link #verify(String, String, IdentifierKind, String, LocalDate, String)} without
     * a version requirement.
     */
    public Result verify(String key, String serverKey, String module, LocalDate today) {
        return verify(key, serverKey, IdentifierKind.SERVER_KEY, module, today, null);
    }

    /**
     * Check a licence key (LIC-3).
     *
     * @param key the key as typed or pasted: whitespace, dashes and case are ignored, O reads as
     *     0, I and L as 1
     * @param identifier the installation's server licence key (or hardware ID)
     * @param kind what {@code identifier} is
     * @param module the module's article code, e.g. {@code "ADSYNC"} (trimmed, case ignored)
     * @param today the date for the demo-key expiry check (LIC-6); required, so a module cannot
     *     forget the check
     * @param requiredVersion the lowest licensed version the installed version needs (LIC-4, see
     *     {@link #requiredKeyVersion}), or {@code null} when any key runs it
     * @throws NullPointerException when key, identifier, kind, module or today is missing
     * @throws IllegalArgumentException when {@code requiredVersion} is not a version
     */
    public Result verify(String key, String identifier, IdentifierKind kind, String module, LocalDate today,
            String requiredVersion) {
        Objects.requireNonNull(key, "key");
        Objects.requireNonNull(identifier, "identifier");
        Objects.requireNonNull(kind, "kind");
        Objects.requireNonNull(module, "module: the article code the key must be for");
        Objects.requireNonNull(today, "today: the expiry of demo keys is always checked");
        int[] required = requiredVersion == null ? null : parseVersion(requiredVersion);
        String shownIdentifier = kind == IdentifierKind.SERVER_KEY
                ? normalizeServerKey(identifier)
                : normalizeHardwareId(identifier);
        String shownModule = pythonUpper(pythonStrip(module));

        String stripped = stripKeyText(key);
        if (stripped == null) { // characters outside ASCII: cannot be a server key either
            return fail(MISTYPED, null, shownModule, shownIdentifier, "");
        }
        // LIC-3 (b): 20 letters/digits is the shape of a server key; a module key has at least
        // 152 characters, so the two never overlap.
        if (stripped.length() == 20 && isAsciiAlnum(stripped)) {
            return fail(SERVER_KEY_ENTERED, null, shownModule, shownIdentifier, "");
        }
        byte[] signed;
        byte[] signature;
        Payload payload;
        try {
            byte[] data = decodeStripped(stripped);
            if (data.length < MIN_KEY_BYTES) {
                throw new MalformedKey("the key is too short");
            }
            signed = Arrays.copyOf(data, data.length - SIGNATURE_SIZE);
            signature = Arrays.copyOfRange(data, data.length - SIGNATURE_SIZE, data.length);
            payload = unpackPayload(signed);
        } catch (MalformedKey e) {
            return fail(MISTYPED, null, shownModule, shownIdentifier, "");
        }
        PublicKey publicKey = publicKeys.get(payload.keyId);
        if (publicKey == null || !signatureHolds(publicKey, signed, signature)) {
            return fail(MISTYPED, null, shownModule, shownIdentifier, "");
        }
        if (!Arrays.equals(moduleDigest(module), payload.moduleDigest)) {
            return fail(OTHER_MODULE, payload, shownModule, shownIdentifier, "");
        }
        byte[] binding = bindingDigest(identifier, kind);
        boolean bound = false;
        for (byte[] candidate : payload.bindings) {
            bound |= Arrays.equals(candidate, binding);
        }
        if (!bound) {
            return fail(OTHER_SERVER_KEY, payload, shownModule, shownIdentifier, "");
        }
        if (payload.expiry != null && today.isAfter(payload.expiry)) {
            return fail(EXPIRED, payload, shownModule, shownIdentifier, "");
        }
        // LIC-12: during a subscription all updates are free, so a subscription key runs every
        // version; the portal blocks it when the subscription ends.
        if (required != null && !payload.subscription() && compareVersions(payload.version, required) < 0) {
            return fail(PAID_UPDATE_NEEDED, payload, shownModule, shownIdentifier, requiredVersion);
        }
        return new Result(VALID, message(VALID, payload, shownModule, shownIdentifier, ""), payload);
    }

    private static Result fail(String code, Payload payload, String module, String identifier, String required) {
        return new Result(code, message(code, payload, module, identifier, required), payload);
    }

    private static boolean signatureHolds(PublicKey publicKey, byte[] signed, byte[] signature) {
        try {
            Signature verifier = Signature.getInstance("Ed25519");
            verifier.initVerify(publicKey);
            verifier.update(signed);
            return verifier.verify(signature);
        } catch (GeneralSecurityException | RuntimeException e) {
            // A signature that cannot even be parsed is not a valid one: fail closed, never let
            // a typed key crash the module.
            return false;
        }
    }

    // --- German sentences (licensing.rules.diagnosis_message) ----------------------------------

    private static String message(String code, Payload payload, String module, String identifier,
            String required) {
        switch (code) {
            case VALID:
                return "Der Schlüssel ist gültig für " + identifier
                        + ". Bitte in der Modulkonfiguration unter „Lizenzierung“ eintragen und speichern.";
            case EXPIRED:
                LocalDate expiry = payload.expiry;
                return "Der Demo-Schlüssel ist am "
                        + String.format(Locale.ROOT, "%02d.%02d.%04d", expiry.getDayOfMonth(),
                                expiry.getMonthValue(), expiry.getYear())
                        + " abgelaufen. Für den weiteren Betrieb bitte das Modul kaufen oder mieten.";
            case OTHER_SERVER_KEY:
                return "Der Schlüssel gehört zu einem anderen Serverlizenzschlüssel als " + identifier
                        + ". Bitte den Serverlizenzschlüssel im Bereich Support-Informationen der Anlage mit dem"
                        + " auf dem Lieferschein vergleichen – beide bilden ein Lizenzpaar.";
            case SERVER_KEY_ENTERED:
                return "Eingegeben wurde ein Serverlizenzschlüssel, kein Modullizenzschlüssel."
                        + " Bitte den Modullizenzschlüssel vom Lieferschein eintragen.";
            case MISTYPED:
                return "Der Schlüssel ist unvollständig oder enthält falsche Zeichen. Bitte ihn vollständig"
                        + " aus dem Lieferschein kopieren und prüfen, dass der Browser das Feld nicht"
                        + " automatisch befüllt hat.";
            case OTHER_MODULE:
                // Offline only the digest of the key's article code is known, not its name.
                return "Der Schlüssel gehört zum Modul ?, nicht zu " + (module.isEmpty() ? "?" : module)
                        + ". Bitte den Schlüssel in der Konfiguration des richtigen Moduls eintragen.";
            case PAID_UPDATE_NEEDED:
                return "Der Schlüssel gilt für Version " + payload.versionText()
                        + ". Die installierte Version braucht nach einem kostenpflichtigen Update einen"
                        + " Schlüssel ab Version " + required
                        + " – bitte das Upgrade bestellen oder die ältere Version weiter verwenden.";
            default:
                throw new IllegalArgumentException("unknown verdict " + code);
        }
    }

    // --- Input normalisation (as licensing/verifier.py) ----------------------------------------

    /**
     * The characters Python's {@code str.split()} and {@code str.strip()} treat as whitespace
     * ({@code str.isspace()}); Java's {@code Character.isWhitespace} differs (e.g. U+00A0).
     */
    static boolean isPythonSpace(char c) {
        return (c >= 0x09 && c <= 0x0d) || (c >= 0x1c && c <= 0x20) || c == 0x85 || c == 0xa0
                || c == 0x1680 || (c >= 0x2000 && c <= 0x200a) || c == 0x2028 || c == 0x2029
                || c == 0x202f || c == 0x205f || c == 0x3000;
    }

    /** Hyphen-minus and the dashes a mail client or word processor may put in its place. */
    private static boolean isDash(char c) {
        return c == '-' || (c >= 0x2010 && c <= 0x2015) || c == 0x2212;
    }

    /** The key without whitespace and dashes, or {@code null} when anything else is not ASCII. */
    private static String stripKeyText(String text) {
        StringBuilder kept = new StringBuilder(text.length());
        for (int i = 0; i < text.length(); i++) {
            char c = text.charAt(i);
            if (isPythonSpace(c) || isDash(c)) {
                continue;
            }
            if (c > 0x7f) { // refused before upper-casing: "ß" must not become "SS"
                return null;
            }
            kept.append(c);
        }
        return kept.toString();
    }

    private static boolean isAsciiAlnum(String text) {
        for (int i = 0; i < text.length(); i++) {
            char c = text.charAt(i);
            if (!((c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z'))) {
                return false;
            }
        }
        return true;
    }

    private static byte[] decodeStripped(String stripped) throws MalformedKey {
        int length = stripped.length();
        if (length == 0) {
            throw new MalformedKey("the key is empty");
        }
        if (length > MAX_KEY_CHARS) {
            throw new MalformedKey("the key is too long");
        }
        int nBytes = length * 5 / 8;
        if ((nBytes * 8 + 4) / 5 != length) {
            throw new MalformedKey("a key cannot have " + length + " characters");
        }
        byte[] out = new byte[nBytes];
        int buffer = 0;
        int bits = 0;
        int written = 0;
        for (int i = 0; i < length; i++) {
            char c = stripped.charAt(i);
            int digit = c < 128 ? DIGIT[c] : -1;
            if (digit < 0) {
                throw new MalformedKey("the key contains characters outside the key alphabet");
            }
            buffer = (buffer << 5) | digit;
            bits += 5;
            if (bits >= 8) {
                bits -= 8;
                out[written++] = (byte) (buffer >> bits);
                buffer &= (1 << bits) - 1;
            }
        }
        // Only canonical encodings: the unused trailing bits must be zero, so that every
        // changed character changes the bytes (and so breaks the signature).
        if (buffer != 0) {
            throw new MalformedKey("the last character of the key is not possible");
        }
        return out;
    }

    private static Payload unpackPayload(byte[] data) throws MalformedKey {
        if (data.length == 0 || (data[0] & 0xff) != FORMAT_VERSION) {
            throw new MalformedKey("unknown key format version");
        }
        if (data.length < HEADER_SIZE) {
            throw new MalformedKey("the key is too short");
        }
        int count = data[22] & 0xff;
        if (count < 1 || count > MAX_BINDINGS) {
            throw new MalformedKey("invalid binding count " + count);
        }
        if (data.length != HEADER_SIZE + count * BINDING_SIZE) {
            throw new MalformedKey("the key length does not match its binding count");
        }
        int flags = data[21] & 0xff;
        if ((flags & ~KNOWN_FLAGS) != 0) {
            throw new MalformedKey("unknown flags set");
        }
        List<byte[]> bindings = new ArrayList<>(count);
        for (int offset = HEADER_SIZE; offset < data.length; offset += BINDING_SIZE) {
            bindings.add(Arrays.copyOfRange(data, offset, offset + BINDING_SIZE));
        }
        int expiryDays = u16(data, 19);
        return new Payload(
                u16(data, 1),
                ((long) u16(data, 3) << 16) | u16(data, 5),
                Arrays.copyOfRange(data, 7, 11),
                new int[] {u16(data, 11), u16(data, 13), u16(data, 15)},
                u16(data, 17),
                expiryDays == 0 ? null : EXPIRY_EPOCH.plusDays(expiryDays),
                flags,
                bindings);
    }

    private static int u16(byte[] data, int offset) {
        return ((data[offset] & 0xff) << 8) | (data[offset + 1] & 0xff);
    }

    /**
     * Compact canonical form of a typed or pasted key (no dashes, upper case, O→0, I/L→1).
     *
     * @throws IllegalArgumentException on a character outside the key alphabet
     */
    public static String normalizeKey(String text) {
        String stripped = stripKeyText(text);
        if (stripped == null) {
            throw new IllegalArgumentException("the key contains characters outside the key alphabet");
        }
        StringBuilder out = new StringBuilder(stripped.length());
        for (int i = 0; i < stripped.length(); i++) {
            char c = stripped.charAt(i);
            int digit = c < 128 ? DIGIT[c] : -1;
            if (digit < 0) {
                throw new IllegalArgumentException("the key contains characters outside the key alphabet: " + c);
            }
            out.append(ALPHABET.charAt(digit));
        }
        return out.toString();
    }

    /** A key in groups of five joined by {@code -}, as on the delivery note. */
    public static String formatKey(String text) {
        String compact = normalizeKey(text);
        StringBuilder out = new StringBuilder();
        for (int i = 0; i < compact.length(); i += 5) {
            if (i > 0) {
                out.append('-');
            }
            out.append(compact, i, Math.min(i + 5, compact.length()));
        }
        return out.toString();
    }

    /**
     * Canonical server licence key (LIC-1): whitespace removed, upper case; 20 letters/digits
     * once dashes are ignored are regrouped as {@code ABCDE-12345-FGHIJ-67890}; anything else
     * is returned as it is (and will simply not match a binding).
     */
    public static String normalizeServerKey(String text) {
        String upper = pythonUpper(withoutPythonSpaces(text));
        String compact = upper.replace("-", "");
        if (compact.length() == 20 && isAsciiAlnum(compact)) {
            return compact.substring(0, 5) + "-" + compact.substring(5, 10) + "-" + compact.substring(10, 15)
                    + "-" + compact.substring(15);
        }
        return upper;
    }

    /** Canonical hardware ID (STARFACE Free Edition): no whitespace, upper case. */
    public static String normalizeHardwareId(String text) {
        return pythonUpper(withoutPythonSpaces(text));
    }

    /** The 8-byte digest an installation is bound by (LIC-1, LIC-9). */
    public static byte[] bindingDigest(String identifier, IdentifierKind kind) {
        String normalized = kind == IdentifierKind.SERVER_KEY
                ? normalizeServerKey(identifier)
                : normalizeHardwareId(identifier);
        byte[] material = ("LIC1|" + kind.wireName() + "|" + normalized).getBytes(StandardCharsets.UTF_8);
        return Arrays.copyOf(sha256(material), BINDING_SIZE);
    }

    /** First 4 bytes of SHA-256 of the module's article code (trimmed, upper case). */
    public static byte[] moduleDigest(String articleCode) {
        byte[] material = pythonUpper(pythonStrip(articleCode)).getBytes(StandardCharsets.UTF_8);
        return Arrays.copyOf(sha256(material), 4);
    }

    private static String withoutPythonSpaces(String text) {
        StringBuilder out = new StringBuilder(text.length());
        for (int i = 0; i < text.length(); i++) {
            if (!isPythonSpace(text.charAt(i))) {
                out.append(text.charAt(i));
            }
        }
        return out.toString();
    }

    private static String pythonStrip(String text) {
        int from = 0;
        int to = text.length();
        while (from < to && isPythonSpace(text.charAt(from))) {
            from++;
        }
        while (to > from && isPythonSpace(text.charAt(to - 1))) {
            to--;
        }
        return text.substring(from, to);
    }

    private static String pythonUpper(String text) {
        // Locale.ROOT: no Turkish dotted I; full case mapping like Python ("ß" -> "SS").
        return text.toUpperCase(Locale.ROOT);
    }

    private static byte[] sha256(byte[] data) {
        try {
            return MessageDigest.getInstance("SHA-256").digest(data);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("every Java platform has SHA-256", e);
        }
    }

    // --- Versions (LIC-4) ------------------------------------------------------------------------

    /**
     * {@code "46"} → 46.0.0, {@code "3.2"} → 3.2.0, {@code "22.2.14"} → 22.2.14.
     *
     * @throws IllegalArgumentException on anything but one to three dot-separated numbers of
     *     0..65535
     */
    public static int[] parseVersion(String text) {
        String raw = pythonStrip(Objects.requireNonNull(text, "version"));
        String[] pieces = raw.split("\\.", -1);
        if (raw.isEmpty() || pieces.length > 3) {
            throw new IllegalArgumentException("version '" + text + "' must look like 46, 3.2 or 22.2.14");
        }
        int[] parts = new int[3];
        for (int i = 0; i < pieces.length; i++) {
            String piece = pieces[i];
            if (piece.isEmpty() || !piece.chars().allMatch(c -> c >= '0' && c <= '9')) {
                throw new IllegalArgumentException("version '" + text + "' has a non-numeric part '" + piece + "'");
            }
            BigInteger value = new BigInteger(piece);
            if (value.compareTo(BigInteger.valueOf(0xFFFF)) > 0) {
                throw new IllegalArgumentException("version '" + text + "': each part must be between 0 and 65535");
            }
            parts[i] = value.intValue();
        }
        return parts;
    }

    private static int compareVersions(int[] a, int[] b) {
        for (int i = 0; i < 3; i++) {
            if (a[i] != b[i]) {
                return Integer.compare(a[i], b[i]);
            }
        }
        return 0;
    }

    /**
     * The lowest licensed version a key needs to run {@code installedVersion} (LIC-4), or
     * {@code null} when any key for the module runs it.
     *
     * <p>Updates are free and keep the key, except the versions marked as paid updates: a key for
     * version L runs version T unless a paid update P with L &lt; P ≤ T lies between them, so T
     * needs a key for at least the newest paid update ≤ T. Older versions are always covered.
     *
     * @param paidUpdates the module's versions that were paid updates (the module knows its own)
     */
    public static String requiredKeyVersion(String installedVersion, Collection<String> paidUpdates) {
        int[] target = parseVersion(installedVersion);
        String best = null;
        int[] bestParts = null;
        for (String paid : paidUpdates) {
            int[] parts = parseVersion(paid);
            if (compareVersions(parts, target) <= 0 && (bestParts == null || compareVersions(parts, bestParts) > 0)) {
                best = paid;
                bestParts = parts;
            }
        }
        return best;
    }

    // --- Command line ----------------------------------------------------------------------------

    private static final String USAGE = "Aufruf: java -jar license-verifier.jar SCHLÜSSEL SERVERLIZENZSCHLÜSSEL"
            + " --public-key vendor.pem [--public-key alt.pem] --module ARTIKEL"
            + " [--installed-version V [--paid-update P]...] [--required-version V] [--hardware-id]"
            + " [--today JJJJ-MM-TT]\n"
            + "       java -jar license-verifier.jar --vectors DATEI.json";

    private static final class UsageError extends Exception {
        private static final long serialVersionUID = 1L;

        UsageError(String message) {
            super(message, null, false, false);
        }
    }

    /**
     * {@code java -jar license-verifier.jar KEY SERVER_KEY --public-key vendor.pem --module ARTICLE
     * [--installed-version V [--paid-update P]...] [--required-version V] [--hardware-id] [--today
     * YYYY-MM-DD]}: prints the verdict code and the German sentence; exit 0 only for a valid key,
     * 1 for any other verdict, 2 for unusable arguments (German message on stderr).
     */
    public static void main(String[] args) {
        PrintStream out = new PrintStream(new FileOutputStream(FileDescriptor.out), true, StandardCharsets.UTF_8);
        PrintStream err = new PrintStream(new FileOutputStream(FileDescriptor.err), true, StandardCharsets.UTF_8);
        int status;
        try {
            status = run(args, out);
        } catch (UsageError e) {
            err.println(e.getMessage());
            err.println(USAGE);
            status = 2;
        }
        out.flush();
        System.exit(status);
    }

    private static int run(String[] args, PrintStream out) throws UsageError {
        List<String> positional = new ArrayList<>();
        List<String> pemFiles = new ArrayList<>();
        List<String> paidUpdates = new ArrayList<>();
        String module = null;
        String installed = null;
        String requiredVersion = null;
        String todayText = null;
        String vectors = null;
        boolean hardwareId = false;
        for (int i = 0; i < args.length; i++) {
            String arg = args[i];
            switch (arg) {
                case "--public-key" -> pemFiles.add(value(args, ++i, arg));
                case "--module" -> module = value(args, ++i, arg);
                case "--installed-version" -> installed = value(args, ++i, arg);
                case "--paid-update" -> paidUpdates.add(value(args, ++i, arg));
                case "--required-version" -> requiredVersion = value(args, ++i, arg);
                case "--today" -> todayText = value(args, ++i, arg);
                case "--vectors" -> vectors = value(args, ++i, arg);
                case "--hardware-id" -> hardwareId = true;
                case "-h", "--help" -> {
                    out.println(USAGE);
                    return 0;
                }
                default -> {
                    if (arg.startsWith("--")) {
                        throw new UsageError("Unbekannte Angabe: " + arg + ".");
                    }
                    positional.add(arg);
                }
            }
        }
        if (vectors != null) {
            if (!positional.isEmpty()) {
                throw new UsageError("--vectors nimmt keinen Schlüssel dazu.");
            }
            return VectorRunner.run(Path.of(vectors), out);
        }
        if (positional.size() != 2) {
            throw new UsageError(positional.size() < 2
                    ? "Es fehlt: der Modullizenzschlüssel und der Serverlizenzschlüssel (oder die Hardware-ID)."
                    : "Unbekannte Angaben: " + String.join(" ", positional.subList(2, positional.size())) + ".");
        }
        if (pemFiles.isEmpty()) {
            throw new UsageError("Es fehlt: --public-key (der öffentliche Schlüssel des Herstellers als PEM).");
        }
        if (module == null || pythonStrip(module).isEmpty()) {
            throw new UsageError("Es fehlt: --module (die Artikelnummer des Moduls, z. B. ADSYNC).");
        }
        if (requiredVersion != null && installed != null) {
            throw new UsageError("--required-version und --installed-version schließen sich aus.");
        }
        if (!paidUpdates.isEmpty() && installed == null) {
            throw new UsageError("--paid-update gilt nur zusammen mit --installed-version.");
        }
        checkVersion("--installed-version", installed);
        checkVersion("--required-version", requiredVersion);
        for (String paid : paidUpdates) {
            checkVersion("--paid-update", paid);
        }
        LocalDate today = LocalDate.now();
        if (todayText != null) {
            try {
                today = LocalDate.parse(todayText);
            } catch (DateTimeParseException e) {
                throw new UsageError("--today: „" + todayText
                        + "“ ist kein Datum im Format JJJJ-MM-TT, z. B. 2026-11-21.");
            }
        }
        List<String> pems = new ArrayList<>();
        for (String file : pemFiles) {
            try {
                String pem = Files.readString(Path.of(file), StandardCharsets.US_ASCII);
                rawFromPem(pem);
                pems.add(pem);
            } catch (IOException | IllegalArgumentException e) {
                throw new UsageError("Der öffentliche Schlüssel " + file + " ist nicht verwendbar: " + e.getMessage());
            }
        }
        LicenseVerifier verifier = fromPem(pems.toArray(new String[0]));
        if (installed != null) {
            requiredVersion = requiredKeyVersion(installed, paidUpdates);
        }
        Result result = verifier.verify(positional.get(0), positional.get(1),
                hardwareId ? IdentifierKind.HARDWARE_ID : IdentifierKind.SERVER_KEY, module, today, requiredVersion);
        out.println(result.code());
        out.println(result.message());
        return result.ok() ? 0 : 1;
    }

    private static String value(String[] args, int index, String option) throws UsageError {
        if (index >= args.length) {
            throw new UsageError(option + " braucht einen Wert.");
        }
        return args[index];
    }

    private static void checkVersion(String option, String text) throws UsageError {
        if (text == null) {
            return;
        }
        try {
            parseVersion(text);
        } catch (IllegalArgumentException e) {
            throw new UsageError(option + ": „" + text
                    + "“ ist keine Versionsnummer; bitte ein bis drei Zahlen mit Punkt angeben, z. B. 2.1 oder 9.0.1.");
        }
    }

    // --- Batch mode for the shared test vectors --------------------------------------------------

    /**
     * {@code --vectors FILE}: the JSON the Python side writes ({@code licensing/tests/vectors.py})
     * is checked in one JVM; one line per vector: index, code, German sentence and a summary of
     * the decoded payload, tab-separated. The Python test compares them with its own verdicts.
     */
    private static final class VectorRunner {
        static int run(Path file, PrintStream out) throws UsageError {
            Map<String, Object> document;
            try {
                Object parsed = new Json(Files.readString(file, StandardCharsets.UTF_8)).parseDocument();
                document = asObject(parsed);
            } catch (IOException | IllegalArgumentException e) {
                throw new UsageError("Die Testvektoren " + file + " sind nicht lesbar: " + e.getMessage());
            }
            List<String> pems = new ArrayList<>();
            for (Object pem : asList(document.get("public_keys"))) {
                pems.add((String) pem);
            }
            LicenseVerifier verifier = fromPem(pems.toArray(new String[0]));
            List<Object> vectors = asList(document.get("vectors"));
            StringBuilder lines = new StringBuilder();
            for (int index = 0; index < vectors.size(); index++) {
                Map<String, Object> vector = asObject(vectors.get(index));
                String required = (String) vector.get("required_version");
                if (vector.get("installed_version") != null) {
                    List<String> paid = new ArrayList<>();
                    for (Object version : asList(vector.get("paid_updates"))) {
                        paid.add((String) version);
                    }
                    required = requiredKeyVersion((String) vector.get("installed_version"), paid);
                }
                IdentifierKind kind = "hardware_id".equals(vector.get("kind"))
                        ? IdentifierKind.HARDWARE_ID
                        : IdentifierKind.SERVER_KEY;
                Result result = verifier.verify((String) vector.get("key"), (String) vector.get("identifier"), kind,
                        (String) vector.get("module"), LocalDate.parse((String) vector.get("today")), required);
                lines.append(index).append('\t').append(result.code()).append('\t').append(result.message())
                        .append('\t').append(summary(result.payload())).append('\n');
            }
            out.print(lines);
            return 0;
        }

        /** {@code keyid:serial:module:version:users:expiry:flags:bindings}, or "-" without payload. */
        static String summary(Payload payload) {
            if (payload == null) {
                return "-";
            }
            HexFormat hex = HexFormat.of();
            List<String> bindings = new ArrayList<>();
            for (byte[] binding : payload.bindings) {
                bindings.add(hex.formatHex(binding));
            }
            return payload.keyId + ":" + payload.serial + ":" + hex.formatHex(payload.moduleDigest) + ":"
                    + payload.versionText() + ":" + payload.userLimit + ":"
                    + (payload.expiry == null ? "" : payload.expiry.toString()) + ":" + payload.flags + ":"
                    + String.join(",", bindings);
        }

        @SuppressWarnings("unchecked")
        static Map<String, Object> asObject(Object value) {
            if (!(value instanceof Map)) {
                throw new IllegalArgumentException("expected a JSON object");
            }
            return (Map<String, Object>) value;
        }

        @SuppressWarnings("unchecked")
        static List<Object> asList(Object value) {
            if (!(value instanceof List)) {
                throw new IllegalArgumentException("expected a JSON array");
            }
            return (List<Object>) value;
        }
    }

    /** A small JSON reader (objects, arrays, strings, numbers, literals): no dependency needed. */
    private static final class Json {
        private final String text;
        private int pos;

        Json(String text) {
            this.text = text;
        }

        Object parseDocument() {
            Object value = parseValue();
            skipSpace();
            if (pos != text.length()) {
                throw error("trailing characters");
            }
            return value;
        }

        private Object parseValue() {
            skipSpace();
            if (pos >= text.length()) {
                throw error("unexpected end");
            }
            char c = text.charAt(pos);
            switch (c) {
                case '{':
                    return parseObject();
                case '[':
                    return parseArray();
                case '"':
                    return parseString();
                default:
                    if (text.startsWith("true", pos)) {
                        pos += 4;
                        return Boolean.TRUE;
                    }
                    if (text.startsWith("false", pos)) {
                        pos += 5;
                        return Boolean.FALSE;
                    }
                    if (text.startsWith("null", pos)) {
                        pos += 4;
                        return null;
                    }
                    return parseNumber();
            }
        }

        private Map<String, Object> parseObject() {
            Map<String, Object> object = new LinkedHashMap<>();
            pos++;
            skipSpace();
            if (peek() == '}') {
                pos++;
                return object;
            }
            while (true) {
                skipSpace();
                if (peek() != '"') {
                    throw error("expected a key");
                }
                String key = parseString();
                skipSpace();
                expect(':');
                object.put(key, parseValue());
                skipSpace();
                if (peek() == ',') {
                    pos++;
                    continue;
                }
                expect('}');
                return object;
            }
        }

        private List<Object> parseArray() {
            List<Object> array = new ArrayList<>();
            pos++;
            skipSpace();
            if (peek() == ']') {
                pos++;
                return array;
            }
            while (true) {
                array.add(parseValue());
                skipSpace();
                if (peek() == ',') {
                    pos++;
                    continue;
                }
                expect(']');
                return array;
            }
        }

        private String parseString() {
            pos++; // opening quote
            StringBuilder out = new StringBuilder();
            while (true) {
                if (pos >= text.length()) {
                    throw error("unterminated string");
                }
                char c = text.charAt(pos++);
                if (c == '"') {
                    return out.toString();
                }
                if (c != '\\') {
                    out.append(c);
                    continue;
                }
                char escape = text.charAt(pos++);
                switch (escape) {
                    case '"', '\\', '/' -> out.append(escape);
                    case 'b' -> out.append('\b');
                    case 'f' -> out.append('\f');
                    case 'n' -> out.append('\n');
                    case 'r' -> out.append('\r');
                    case 't' -> out.append('\t');
                    case 'u' -> {
                        out.append((char) Integer.parseInt(text.substring(pos, pos + 4), 16));
                        pos += 4;
                    }
                    default -> throw error("bad escape \\" + escape);
                }
            }
        }

        private Object parseNumber() {
            int start = pos;
            while (pos < text.length() && "+-0123456789.eE".indexOf(text.charAt(pos)) >= 0) {
                pos++;
            }
            if (start == pos) {
                throw error("unexpected character");
            }
            return Double.valueOf(text.substring(start, pos));
        }

        private void skipSpace() {
            while (pos < text.length() && " \t\r\n".indexOf(text.charAt(pos)) >= 0) {
                pos++;
            }
        }

        private char peek() {
            return pos < text.length() ? text.charAt(pos) : '\0';
        }

        private void expect(char c) {
            if (peek() != c) {
                throw error("expected '" + c + "'");
            }
            pos++;
        }

        private IllegalArgumentException error(String what) {
            return new IllegalArgumentException("JSON: " + what + " at character " + pos);
        }
    }
}
