// Private to the crypto module: RAII handles for OpenSSL objects and error translation.
// Nothing outside src/crypto includes this, so OpenSSL stays behind the module's public API.
#pragma once

#include "acmed/util/result.hpp"

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <memory>
#include <string>
#include <string_view>

namespace acmed::crypto::detail {

template <auto Fn>
struct FnDeleter {
  template <typename T>
  void operator()(T* p) const {
    Fn(p);
  }
};

template <typename T, auto Fn>
using Handle = std::unique_ptr<T, FnDeleter<Fn>>;

using BioPtr = Handle<BIO, BIO_free_all>;
using BnPtr = Handle<BIGNUM, BN_clear_free>;
using PkeyPtr = Handle<EVP_PKEY, EVP_PKEY_free>;
using PkeyCtxPtr = Handle<EVP_PKEY_CTX, EVP_PKEY_CTX_free>;
using MdCtxPtr = Handle<EVP_MD_CTX, EVP_MD_CTX_free>;
using CipherCtxPtr = Handle<EVP_CIPHER_CTX, EVP_CIPHER_CTX_free>;
using ParamBldPtr = Handle<OSSL_PARAM_BLD, OSSL_PARAM_BLD_free>;
using ParamPtr = Handle<OSSL_PARAM, OSSL_PARAM_free>;
using EcdsaSigPtr = Handle<ECDSA_SIG, ECDSA_SIG_free>;
using X509Ptr = Handle<X509, X509_free>;
using X509ReqPtr = Handle<X509_REQ, X509_REQ_free>;
using X509NamePtr = Handle<X509_NAME, X509_NAME_free>;
using X509StorePtr = Handle<X509_STORE, X509_STORE_free>;
using X509StoreCtxPtr = Handle<X509_STORE_CTX, X509_STORE_CTX_free>;
using X509ExtPtr = Handle<X509_EXTENSION, X509_EXTENSION_free>;
using GeneralNamesPtr = Handle<GENERAL_NAMES, GENERAL_NAMES_free>;
using GeneralNamePtr = Handle<GENERAL_NAME, GENERAL_NAME_free>;
using Asn1OctetPtr = Handle<ASN1_OCTET_STRING, ASN1_OCTET_STRING_free>;

// Drains OpenSSL's thread-local error queue into one line ("" when it is empty).
std::string drain_openssl_errors();

// Errc::crypto error "<what>: <OpenSSL reasons>"; always drains the error queue.
Error openssl_error(std::string what);

// Unsigned big-endian bytes of a BIGNUM; left-padded with zeros to `width` when width > 0.
std::string bn_to_bytes(const BIGNUM* bn, int width = 0);

// A read-only memory BIO over `data` (which must outlive the BIO).
BioPtr memory_bio(std::string_view data);

// Everything written to a memory BIO so far.
std::string bio_contents(BIO* bio);

// Pointer/size adapters, to keep the casts OpenSSL's C API needs in one place.
inline const unsigned char* uchar(std::string_view s) {
  return reinterpret_cast<const unsigned char*>(s.data());
}
inline unsigned char* uchar(std::string& s) {
  return reinterpret_cast<unsigned char*>(s.data());
}

}  // namespace acmed::crypto::detail
