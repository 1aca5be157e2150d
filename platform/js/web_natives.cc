#include "platform/js/web_natives.h"

#include <v8-array-buffer.h>
#include <v8-container.h>
#include <v8-external.h>
#include <v8-isolate.h>
#include <v8-primitive.h>
#include <v8-typed-array.h>

#include <array>
#include <cstring>
#include <utility>

#include "platform/js/v8_util.h"

namespace js {

namespace {

// ---- FIPS 180-4 -----------------------------------------------------------------------------

// SHA-384/512 round constants (section 4.2.3): the first 64 bits of the fractional parts of the
// cube roots of the first 80 primes. SHA-256's (4.2.2) are the first 32 bits of the first 64.
constexpr std::array<std::uint64_t, 80> kK512 = {
    0x428a2f98d728ae22ULL, 0x7137449123ef65cdULL, 0xb5c0fbcfec4d3b2fULL, 0xe9b5dba58189dbbcULL,
    0x3956c25bf348b538ULL, 0x59f111f1b605d019ULL, 0x923f82a4af194f9bULL, 0xab1c5ed5da6d8118ULL,
    0xd807aa98a3030242ULL, 0x12835b0145706fbeULL, 0x243185be4ee4b28cULL, 0x550c7dc3d5ffb4e2ULL,
    0x72be5d74f27b896fULL, 0x80deb1fe3b1696b1ULL, 0x9bdc06a725c71235ULL, 0xc19bf174cf692694ULL,
    0xe49b69c19ef14ad2ULL, 0xefbe4786384f25e3ULL, 0x0fc19dc68b8cd5b5ULL, 0x240ca1cc77ac9c65ULL,
    0x2de92c6f592b0275ULL, 0x4a7484aa6ea6e483ULL, 0x5cb0a9dcbd41fbd4ULL, 0x76f988da831153b5ULL,
    0x983e5152ee66dfabULL, 0xa831c66d2db43210ULL, 0xb00327c898fb213fULL, 0xbf597fc7beef0ee4ULL,
    0xc6e00bf33da88fc2ULL, 0xd5a79147930aa725ULL, 0x06ca6351e003826fULL, 0x142929670a0e6e70ULL,
    0x27b70a8546d22ffcULL, 0x2e1b21385c26c926ULL, 0x4d2c6dfc5ac42aedULL, 0x53380d139d95b3dfULL,
    0x650a73548baf63deULL, 0x766a0abb3c77b2a8ULL, 0x81c2c92e47edaee6ULL, 0x92722c851482353bULL,
    0xa2bfe8a14cf10364ULL, 0xa81a664bbc423001ULL, 0xc24b8b70d0f89791ULL, 0xc76c51a30654be30ULL,
    0xd192e819d6ef5218ULL, 0xd69906245565a910ULL, 0xf40e35855771202aULL, 0x106aa07032bbd1b8ULL,
    0x19a4c116b8d2d0c8ULL, 0x1e376c085141ab53ULL, 0x2748774cdf8eeb99ULL, 0x34b0bcb5e19b48a8ULL,
    0x391c0cb3c5c95a63ULL, 0x4ed8aa4ae3418acbULL, 0x5b9cca4f7763e373ULL, 0x682e6ff3d6b2b8a3ULL,
    0x748f82ee5defb2fcULL, 0x78a5636f43172f60ULL, 0x84c87814a1f0ab72ULL, 0x8cc702081a6439ecULL,
    0x90befffa23631e28ULL, 0xa4506cebde82bde9ULL, 0xbef9a3f7b2c67915ULL, 0xc67178f2e372532bULL,
    0xca273eceea26619cULL, 0xd186b8c721c0c207ULL, 0xeada7dd6cde0eb1eULL, 0xf57d4f7fee6ed178ULL,
    0x06f067aa72176fbaULL, 0x0a637dc5a2c898a6ULL, 0x113f9804bef90daeULL, 0x1b710b35131c471bULL,
    0x28db77f523047d84ULL, 0x32caab7b40c72493ULL, 0x3c9ebe0a15c9bebcULL, 0x431d67c49c100d4cULL,
    0x4cc5d4becb3e42b6ULL, 0x597f299cfc657e2aULL, 0x5fcb6fab3ad6faecULL, 0x6c44198c4a475817ULL,
};
// Initial hash values (5.3.5, 5.3.4): fractional parts of the square roots of the first 8
// primes (SHA-512; SHA-256 takes the first 32 bits) and of the 9th to 16th primes (SHA-384).
constexpr std::array<std::uint64_t, 8> kH512 = {
    0x6a09e667f3bcc908ULL, 0xbb67ae8584caa73bULL, 0x3c6ef372fe94f82bULL, 0xa54ff53a5f1d36f1ULL,
    0x510e527fade682d1ULL, 0x9b05688c2b3e6c1fULL, 0x1f83d9abfb41bd6bULL, 0x5be0cd19137e2179ULL,
};
constexpr std::array<std::uint64_t, 8> kH384 = {
    0xcbbb9d5dc1059ed8ULL, 0x629a292a367cd507ULL, 0x9159015a3070dd17ULL, 0x152fecd8f70e5939ULL,
    0x67332667ffc00b31ULL, 0x8eb44a8768581511ULL, 0xdb0c2e0d64f98fa7ULL, 0x47b5481dbefa4fa4ULL,
};

constexpr std::uint32_t rotr32(std::uint32_t x, int n) { return (x >> n) | (x << (32 - n)); }
constexpr std::uint32_t rotl32(std::uint32_t x, int n) { return (x << n) | (x >> (32 - n)); }
constexpr std::uint64_t rotr64(std::uint64_t x, int n) { return (x >> n) | (x << (64 - n)); }

// Section 5.1: the message, a 1 bit, zeros, and the length in bits as a big-endian integer of
// `length_bytes` bytes, to a multiple of `block_bytes`.
std::string pad(std::string_view data, std::size_t block_bytes, std::size_t length_bytes) {
  std::string m(data);
  m.push_back(static_cast<char>(0x80));
  while ((m.size() + length_bytes) % block_bytes != 0) m.push_back('\0');
  const std::uint64_t bits = static_cast<std::uint64_t>(data.size()) * 8;
  for (std::size_t i = length_bytes; i-- > 0;) {
    m.push_back(i < 8 ? static_cast<char>((bits >> (8 * i)) & 0xff) : '\0');
  }
  return m;
}

std::uint64_t load_be(const char* p, int bytes) {
  std::uint64_t v = 0;
  for (int i = 0; i < bytes; ++i) v = (v << 8) | static_cast<unsigned char>(p[i]);
  return v;
}

void store_be(std::string* out, std::uint64_t v, int bytes) {
  for (int i = bytes - 1; i >= 0; --i) out->push_back(static_cast<char>((v >> (8 * i)) & 0xff));
}

// Section 6.1.
std::string sha1(std::string_view data) {
  std::array<std::uint32_t, 5> h = {0x67452301u, 0xefcdab89u, 0x98badcfeu, 0x10325476u,
                                    0xc3d2e1f0u};
  const std::string m = pad(data, 64, 8);
  std::array<std::uint32_t, 80> w{};
  for (std::size_t block = 0; block < m.size(); block += 64) {
    for (int t = 0; t < 16; ++t) w[t] = static_cast<std::uint32_t>(load_be(&m[block + 4 * t], 4));
    for (int t = 16; t < 80; ++t) w[t] = rotl32(w[t - 3] ^ w[t - 8] ^ w[t - 14] ^ w[t - 16], 1);
    std::uint32_t a = h[0], b = h[1], c = h[2], d = h[3], e = h[4];
    for (int t = 0; t < 80; ++t) {
      std::uint32_t f, k;
      if (t < 20) {
        f = (b & c) ^ (~b & d);
        k = 0x5a827999u;
      } else if (t < 40) {
        f = b ^ c ^ d;
        k = 0x6ed9eba1u;
      } else if (t < 60) {
        f = (b & c) ^ (b & d) ^ (c & d);
        k = 0x8f1bbcdcu;
      } else {
        f = b ^ c ^ d;
        k = 0xca62c1d6u;
      }
      const std::uint32_t temp = rotl32(a, 5) + f + e + k + w[t];
      e = d;
      d = c;
      c = rotl32(b, 30);
      b = a;
      a = temp;
    }
    h[0] += a;
    h[1] += b;
    h[2] += c;
    h[3] += d;
    h[4] += e;
  }
  std::string out;
  for (std::uint32_t v : h) store_be(&out, v, 4);
  return out;
}

// Section 6.2.
std::string sha256(std::string_view data) {
  std::array<std::uint32_t, 8> h{};
  for (int i = 0; i < 8; ++i) h[i] = static_cast<std::uint32_t>(kH512[i] >> 32);
  const std::string m = pad(data, 64, 8);
  std::array<std::uint32_t, 64> w{};
  for (std::size_t block = 0; block < m.size(); block += 64) {
    for (int t = 0; t < 16; ++t) w[t] = static_cast<std::uint32_t>(load_be(&m[block + 4 * t], 4));
    for (int t = 16; t < 64; ++t) {
      const std::uint32_t s0 = rotr32(w[t - 15], 7) ^ rotr32(w[t - 15], 18) ^ (w[t - 15] >> 3);
      const std::uint32_t s1 = rotr32(w[t - 2], 17) ^ rotr32(w[t - 2], 19) ^ (w[t - 2] >> 10);
      w[t] = s1 + w[t - 7] + s0 + w[t - 16];
    }
    std::array<std::uint32_t, 8> v = h;  // a..h
    for (int t = 0; t < 64; ++t) {
      const std::uint32_t big1 = rotr32(v[4], 6) ^ rotr32(v[4], 11) ^ rotr32(v[4], 25);
      const std::uint32_t ch = (v[4] & v[5]) ^ (~v[4] & v[6]);
      const std::uint32_t t1 = v[7] + big1 + ch + static_cast<std::uint32_t>(kK512[t] >> 32) + w[t];
      const std::uint32_t big0 = rotr32(v[0], 2) ^ rotr32(v[0], 13) ^ rotr32(v[0], 22);
      const std::uint32_t maj = (v[0] & v[1]) ^ (v[0] & v[2]) ^ (v[1] & v[2]);
      const std::uint32_t t2 = big0 + maj;
      v = {t1 + t2, v[0], v[1], v[2], v[3] + t1, v[4], v[5], v[6]};
    }
    for (int i = 0; i < 8; ++i) h[i] += v[i];
  }
  std::string out;
  for (std::uint32_t x : h) store_be(&out, x, 4);
  return out;
}

// Sections 6.4 (SHA-512) and 6.5 (SHA-384: other initial values, output truncated to 384 bits).
std::string sha512(std::string_view data, const std::array<std::uint64_t, 8>& initial,
                   int out_words) {
  std::array<std::uint64_t, 8> h = initial;
  const std::string m = pad(data, 128, 16);
  std::array<std::uint64_t, 80> w{};
  for (std::size_t block = 0; block < m.size(); block += 128) {
    for (int t = 0; t < 16; ++t) w[t] = load_be(&m[block + 8 * t], 8);
    for (int t = 16; t < 80; ++t) {
      const std::uint64_t s0 = rotr64(w[t - 15], 1) ^ rotr64(w[t - 15], 8) ^ (w[t - 15] >> 7);
      const std::uint64_t s1 = rotr64(w[t - 2], 19) ^ rotr64(w[t - 2], 61) ^ (w[t - 2] >> 6);
      w[t] = s1 + w[t - 7] + s0 + w[t - 16];
    }
    std::array<std::uint64_t, 8> v = h;
    for (int t = 0; t < 80; ++t) {
      const std::uint64_t big1 = rotr64(v[4], 14) ^ rotr64(v[4], 18) ^ rotr64(v[4], 41);
      const std::uint64_t ch = (v[4] & v[5]) ^ (~v[4] & v[6]);
      const std::uint64_t t1 = v[7] + big1 + ch + kK512[t] + w[t];
      const std::uint64_t big0 = rotr64(v[0], 28) ^ rotr64(v[0], 34) ^ rotr64(v[0], 39);
      const std::uint64_t maj = (v[0] & v[1]) ^ (v[0] & v[2]) ^ (v[1] & v[2]);
      const std::uint64_t t2 = big0 + maj;
      v = {t1 + t2, v[0], v[1], v[2], v[3] + t1, v[4], v[5], v[6]};
    }
    for (int i = 0; i < 8; ++i) h[i] += v[i];
  }
  std::string out;
  for (int i = 0; i < out_words; ++i) store_be(&out, h[i], 8);
  return out;
}

}  // namespace

std::string sha_digest(std::string_view algorithm, std::string_view data) {
  if (algorithm == "SHA-1") return sha1(data);
  if (algorithm == "SHA-256") return sha256(data);
  if (algorithm == "SHA-384") return sha512(data, kH384, 6);
  if (algorithm == "SHA-512") return sha512(data, kH512, 8);
  return "";
}

void WebNatives::install(v8::Local<v8::Context> context, v8::Local<v8::Object> natives) {
  v8::Isolate* isolate = context->GetIsolate();
  v8::Local<v8::External> self = v8::External::New(isolate, this);
  auto add = [&](const char* name, v8::FunctionCallback cb) {
    v8::Local<v8::Function> fn =
        v8::Function::New(context, cb, self, 0, v8::ConstructorBehavior::kThrow)
            .ToLocalChecked();  // lint: allow-v8-checked (before any Worker code runs)
    (void)define_property(context, natives, str(isolate, name), fn);
  };
  add("digest", &WebNatives::native_digest);
  add("fetch", &WebNatives::native_fetch);
}

// digest(algorithm, bytes) -> ArrayBuffer, or undefined for an unknown algorithm (the prelude
// checks the name first).
void WebNatives::native_digest(const v8::FunctionCallbackInfo<v8::Value>& info) {
  v8::Isolate* isolate = info.GetIsolate();
  const std::string digest = sha_digest(to_utf8(isolate, info[0]), bytes_of(info[1]));
  if (digest.empty()) return;
  info.GetReturnValue().Set(new_buffer(isolate, digest));
}

// fetch(method, url, [name, value, ...], bytes or null) -> fetch id.
void WebNatives::native_fetch(const v8::FunctionCallbackInfo<v8::Value>& info) {
  auto* self = static_cast<WebNatives*>(info.Data().As<v8::External>()->Value());
  v8::Isolate* isolate = info.GetIsolate();
  v8::Local<v8::Context> context = isolate->GetCurrentContext();
  HttpRequest request;
  request.method = to_utf8(isolate, info[0]);
  request.url = to_utf8(isolate, info[1]);
  if (info[2]->IsArray()) {
    auto flat = info[2].As<v8::Array>();
    for (std::uint32_t i = 0; i + 1 < flat->Length(); i += 2) {
      v8::Local<v8::Value> k, v;
      if (!flat->Get(context, i).ToLocal(&k) || !flat->Get(context, i + 1).ToLocal(&v)) return;
      request.headers.emplace_back(to_utf8(isolate, k), to_utf8(isolate, v));
    }
  }
  request.body = std::string(bytes_of(info[3]));
  const std::uint64_t id = self->next_fetch_id_++;
  self->start_fetch_(id, std::move(request));
  info.GetReturnValue().Set(static_cast<double>(id));
}

void WebNatives::settle(v8::Local<v8::Context> context, v8::Local<v8::Function> settle_fetch,
                        std::uint64_t fetch_id, const sim::Result<HttpResponse>& result) {
  v8::Isolate* isolate = context->GetIsolate();
  v8::Local<v8::Value> status = v8::Number::New(isolate, 0);
  v8::Local<v8::Value> headers = v8::Null(isolate);
  v8::Local<v8::Value> body = v8::Null(isolate);
  v8::Local<v8::Value> error = v8::Undefined(isolate);
  if (result.ok()) {
    const HttpResponse& r = result.value();
    status = v8::Number::New(isolate, r.status);
    // Built whole (define semantics): a Worker's setter on Array.prototype[0] never runs here.
    std::vector<v8::Local<v8::Value>> flat;
    flat.reserve(2 * r.headers.size());
    for (const auto& [name, value] : r.headers) {
      flat.push_back(str(isolate, name));
      flat.push_back(str(isolate, value));
    }
    headers = v8::Array::New(isolate, flat.data(), flat.size());
    v8::Local<v8::ArrayBuffer> buffer = new_buffer(isolate, r.body);
    body = v8::Uint8Array::New(buffer, 0, r.body.size());
  } else {
    error = str(isolate, result.error().message);
  }
  v8::Local<v8::Value> argv[] = {v8::Number::New(isolate, static_cast<double>(fetch_id)), status,
                                 headers, body, error};
  v8::MaybeLocal<v8::Value> ignored = settle_fetch->Call(context, v8::Undefined(isolate), 5, argv);
  (void)ignored;  // settleFetch catches what it can; what escapes is a termination
}

}  // namespace js
