package io.keyrelay.dkim;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SymbolLookup;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.security.PrivateKey;

/**
 * RSA signatures on the system's OpenSSL 3 {@code libcrypto}, through the FFM API (Java 22+): the key is parsed
 * once into an {@code EVP_PKEY} ({@code d2i_AutoPrivateKey}) and freed when the key object is collected; each
 * signature is one {@code EVP_DigestSign} with SHA-256. OpenSSL's {@code EVP_PKEY} may be used by many threads
 * at once for signing; each call has its own {@code EVP_MD_CTX}.
 *
 * <p>The FFM calls are "restricted" (they can crash the JVM if the signatures are wrong): they are bound to the
 * documented OpenSSL 3 prototypes, and the jar's manifest grants native access ({@code Enable-Native-Access}).
 */
@SuppressWarnings("restricted")
final class NativeRsa {
    private static final Linker LINKER = Linker.nativeLinker();
    private static final Functions FUNCTIONS = Functions.load();

    private NativeRsa() {}

    static boolean available() {
        return FUNCTIONS != null;
    }

    static String describe() {
        if (FUNCTIONS == null) {
            return "unavailable (no libcrypto.so.3)";
        }
        try {
            MemorySegment v = (MemorySegment) FUNCTIONS.version.invokeExact(0);
            return v.reinterpret(256).getString(0);
        } catch (Throwable e) {
            return "OpenSSL";
        }
    }

    static PrivateKey load(PrivateKey key) throws DkimException {
        if (FUNCTIONS == null) {
            throw new DkimException("OpenSSL's libcrypto.so.3 is not available", null);
        }
        byte[] der = key.getEncoded();
        if (der == null || !"RSA".equals(key.getAlgorithm())) {
            throw new DkimException("only an encodable RSA key can be loaded into libcrypto", null);
        }
        try (Arena call = Arena.ofConfined()) {
            MemorySegment buffer = call.allocate(der.length);
            MemorySegment.copy(der, 0, buffer, ValueLayout.JAVA_BYTE, 0, der.length);
            MemorySegment pp = call.allocate(ValueLayout.ADDRESS);
            pp.set(ValueLayout.ADDRESS, 0, buffer);
            MemorySegment pkey = (MemorySegment) FUNCTIONS.d2iAutoPrivateKey.invokeExact(MemorySegment.NULL, pp,
                    (long) der.length);
            buffer.fill((byte) 0);
            if (pkey.equals(MemorySegment.NULL)) {
                throw new DkimException("libcrypto cannot read the RSA key", null);
            }
            int size = (int) FUNCTIONS.pkeySize.invokeExact(pkey);
            MemorySegment owned = pkey.reinterpret(Arena.ofAuto(), NativeRsa::free);
            return new Key(owned, size);
        } catch (DkimException e) {
            throw e;
        } catch (Throwable e) {
            throw new DkimException("libcrypto failed to load the key: " + e, e);
        } finally {
            java.util.Arrays.fill(der, (byte) 0);
        }
    }

    private static void free(MemorySegment pkey) {
        try {
            FUNCTIONS.pkeyFree.invokeExact(pkey);
        } catch (Throwable ignored) {
            // nothing to do: the process goes on without the memory
        }
    }

    interface NativeKey extends PrivateKey {
        byte[] signSha256(byte[] data) throws DkimException;
    }

    /** An {@code EVP_PKEY} owned by this object; it has no Java encoding (the key lives in libcrypto). */
    private static final class Key implements NativeKey {
        private static final long serialVersionUID = 1L;
        private final transient MemorySegment pkey;
        private final int size;

        Key(MemorySegment pkey, int size) {
            this.pkey = pkey;
            this.size = size;
        }

        @Override
        public byte[] signSha256(byte[] data) throws DkimException {
            try (Arena call = Arena.ofConfined()) {
                MemorySegment ctx = (MemorySegment) FUNCTIONS.mdCtxNew.invokeExact();
                if (ctx.equals(MemorySegment.NULL)) {
                    throw new DkimException("libcrypto: EVP_MD_CTX_new failed", null);
                }
                try {
                    MemorySegment md = (MemorySegment) FUNCTIONS.sha256.invokeExact();
                    int ok = (int) FUNCTIONS.digestSignInit.invokeExact(ctx, MemorySegment.NULL, md,
                            MemorySegment.NULL, pkey);
                    if (ok != 1) {
                        throw new DkimException("libcrypto: EVP_DigestSignInit failed", null);
                    }
                    MemorySegment tbs = call.allocate(Math.max(1, data.length));
                    MemorySegment.copy(data, 0, tbs, ValueLayout.JAVA_BYTE, 0, data.length);
                    MemorySegment sig = call.allocate(size);
                    MemorySegment sigLen = call.allocate(ValueLayout.JAVA_LONG);
                    sigLen.set(ValueLayout.JAVA_LONG, 0, size);
                    ok = (int) FUNCTIONS.digestSign.invokeExact(ctx, sig, sigLen, tbs, (long) data.length);
                    if (ok != 1) {
                        throw new DkimException("libcrypto: EVP_DigestSign failed", null);
                    }
                    return sig.asSlice(0, sigLen.get(ValueLayout.JAVA_LONG, 0)).toArray(ValueLayout.JAVA_BYTE);
                } finally {
                    FUNCTIONS.mdCtxFree.invokeExact(ctx);
                }
            } catch (DkimException e) {
                throw e;
            } catch (Throwable e) {
                throw new DkimException("libcrypto failed to sign: " + e, e);
            }
        }

        @Override
        public String getAlgorithm() {
            return "RSA";
        }

        @Override
        public String getFormat() {
            return null;
        }

        @Override
        public byte[] getEncoded() {
            return null;
        }
    }

    /** The libcrypto functions used, bound once; null when the library is not there. */
    private record Functions(MethodHandle d2iAutoPrivateKey, MethodHandle pkeySize, MethodHandle pkeyFree,
            MethodHandle mdCtxNew, MethodHandle mdCtxFree, MethodHandle sha256, MethodHandle digestSignInit,
            MethodHandle digestSign, MethodHandle version) {

        static Functions load() {
            SymbolLookup lib;
            try {
                lib = SymbolLookup.libraryLookup("libcrypto.so.3", Arena.global());
            } catch (IllegalArgumentException | IllegalCallerException e) {
                return null; // no OpenSSL 3 here, or native access is not enabled
            }
            try {
                ValueLayout a = ValueLayout.ADDRESS;
                ValueLayout i = ValueLayout.JAVA_INT;
                ValueLayout l = ValueLayout.JAVA_LONG;
                return new Functions(
                        bind(lib, "d2i_AutoPrivateKey", FunctionDescriptor.of(a, a, a, l)),
                        bind(lib, "EVP_PKEY_get_size", FunctionDescriptor.of(i, a)),
                        bind(lib, "EVP_PKEY_free", FunctionDescriptor.ofVoid(a)),
                        bind(lib, "EVP_MD_CTX_new", FunctionDescriptor.of(a)),
                        bind(lib, "EVP_MD_CTX_free", FunctionDescriptor.ofVoid(a)),
                        bind(lib, "EVP_sha256", FunctionDescriptor.of(a)),
                        bind(lib, "EVP_DigestSignInit", FunctionDescriptor.of(i, a, a, a, a, a)),
                        bind(lib, "EVP_DigestSign", FunctionDescriptor.of(i, a, a, a, a, l)),
                        bind(lib, "OpenSSL_version", FunctionDescriptor.of(a, i)));
            } catch (RuntimeException e) {
                return null;
            }
        }

        private static MethodHandle bind(SymbolLookup lib, String name, FunctionDescriptor d) {
            return LINKER.downcallHandle(lib.find(name).orElseThrow(() -> new IllegalStateException(name)), d);
        }
    }
}
