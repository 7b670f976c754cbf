"""Supabase Storage's REST API under /storage/v1, as storage3 (supabase-py) and storage-js call it.

Faithful (checked against supabase/storage `src/http/routes`, `src/internal/errors/codes.ts`, the renderers):
- errors are `{statusCode: "<code as string>", code, error, message}` with HTTP 400 unless the code is 500
  (a missing object is HTTP 400 with `statusCode "404"`, `error "not_found"`); an invalid Range is HTTP 416;
- buckets: list, get, create (`{"name": ...}`; duplicate -> 409 Duplicate); uploads by multipart (`file`
  part + `cacheControl` field, what storage3 and storage-js send for files) or raw body, `x-upsert`,
  `{"Id", "Key"}` answers; PUT overwrites;
- signed URLs: `POST /object/sign/{bucket}/{path}` `{"expiresIn"}` (integer or numeric string, as storage3
  sends a string) -> `/object/sign/{bucket}/{path}?token=<HS256 JWT {url, scope: download, iat, exp}>`;
  the GET checks signature, expiry and that `url` names the requested object; also batch signing;
- downloads (signed, public, authenticated, plain `GET /object/{bucket}/{path}`) send the stored
  Content-Type, ETag, Last-Modified, Cache-Control (Expires for signed URLs), `Accept-Ranges: bytes`; a single
  `Range` gives 206 + Content-Range; HEAD gives the headers only; `If-None-Match` gives 304;
- `GET /object/info/{bucket}/{path}` and `HEAD /object/{bucket}/{path}` as in Storage's info renderer.

Not faithful: there is no Postgres, so RLS is reduced to "service_role may do anything, other valid JWTs see
public buckets only and may not write"; management calls also need an `apikey` header like the hosted API
gateway (401 `{"message": ...}` without one); no image transforms, no list/move/copy, no resumable uploads."""

from __future__ import annotations

import json
import time
import urllib.parse
from collections.abc import Mapping
from datetime import UTC, datetime
from email.utils import format_datetime
from typing import Any

import jwt
from litestar import Request, Response, route
from litestar.datastructures import UploadFile
from litestar.handlers import HTTPRouteHandler
from litestar.params import FromPath

from fake_supabase.fake import FakeSupabase, StoredObject
from fake_supabase.keys import TokenError, verify_token

_JOSE_MESSAGES = {  # what jose (Storage's JWT library) says for each problem
    "malformed": "Invalid Compact JWS",
    "signature": "signature verification failed",
    "expired": '"exp" claim timestamp check failed',
    "missing_claims": "Invalid Compact JWS",
}


def storage_error(
    status_code: int, code: str, error: str, message: str, *, http_status: int | None = None
) -> Response[Any]:
    if http_status is None:
        http_status = 500 if status_code == 500 else 400
    body = {"statusCode": str(status_code), "code": code, "error": error, "message": message}
    return Response(content=body, status_code=http_status, media_type="application/json")


def _no_such_key() -> Response[Any]:
    return storage_error(404, "NoSuchKey", "not_found", "Object not found")


def _no_such_bucket() -> Response[Any]:
    return storage_error(404, "NoSuchBucket", "Bucket not found", "Bucket not found")


def _access_denied(message: str) -> Response[Any]:
    return storage_error(403, "AccessDenied", "Unauthorized", message)


def _rls_denied() -> Response[Any]:
    return storage_error(403, "AccessDenied", "Unauthorized", "new row violates row-level security policy")


def _gateway_key_error(fake: FakeSupabase, request: Request[Any, Any, Any]) -> Response[Any] | None:
    apikey = request.headers.get("apikey") or request.query_params.get("apikey")
    if not apikey:
        return Response(content={"message": "No API key found in request"}, status_code=401)
    if apikey not in (fake.anon_key, fake.service_key):
        return Response(content={"message": "Invalid API key"}, status_code=401)
    return None


def _claims(fake: FakeSupabase, request: Request[Any, Any, Any]) -> dict[str, Any] | Response[Any]:
    """The caller's JWT claims, or the error Storage (and the gateway before it) would answer."""
    if (refused := _gateway_key_error(fake, request)) is not None:
        return refused
    token = request.headers.get("authorization", "")
    token = token[7:].strip() if token[:7].lower() == "bearer " else token
    try:
        return verify_token(token, fake.jwt_secret, require_role_and_exp=False)
    except TokenError as error:
        return _access_denied(_JOSE_MESSAGES[error.problem])


def _is_service(claims: Mapping[str, Any]) -> bool:
    return claims.get("role") == "service_role"


def _http_date(moment: datetime) -> str:
    return format_datetime(moment.astimezone(UTC), usegmt=True)


def _parse_range(header: str, size: int) -> tuple[int, int] | Response[Any] | None:
    """(start, end) inclusive for one satisfiable byte range; None to ignore the header; 416 otherwise."""
    invalid = storage_error(416, "InvalidRange", "invalid_range", "invalid range provided", http_status=416)
    invalid.headers["Content-Range"] = f"bytes */{size}"
    unit, _, spec = header.strip().partition("=")
    if unit.strip().lower() != "bytes" or not spec:
        return invalid
    if "," in spec:
        return None  # multiple ranges: RFC 9110 lets a server ignore Range and send the whole body
    first, dash, last = spec.strip().partition("-")
    if not dash or (first and not first.isdigit()) or (last and not last.isdigit()) or not (first or last):
        return invalid
    if not first:
        suffix = int(last)
        if suffix == 0 or size == 0:
            return invalid
        return max(size - suffix, 0), size - 1
    start = int(first)
    end = min(int(last), size - 1) if last else size - 1
    if start >= size or start > end:
        return invalid
    return start, end


def _render(
    fake: FakeSupabase,
    request: Request[Any, Any, Any],
    obj: StoredObject,
    *,
    expires: int | None = None,
) -> Response[Any]:
    headers = {
        "Accept-Ranges": "bytes",
        "ETag": obj.etag,
        "Last-Modified": _http_date(obj.updated_at),
        "X-Robots-Tag": "none",
    }
    if expires is not None:
        headers["Expires"] = _http_date(datetime.fromtimestamp(expires, UTC))
    else:
        headers["Cache-Control"] = obj.cache_control
    download = request.query_params.get("download")
    if download is not None:
        quoted = urllib.parse.quote(download, safe="")
        headers["Content-Disposition"] = (
            f"attachment; filename={quoted}; filename*=UTF-8''{quoted}" if download else "attachment;"
        )
    if request.headers.get("if-none-match") == obj.etag:
        return Response(content=b"", status_code=304, headers=headers)
    body, status = obj.data, 200
    if (range_header := request.headers.get("range")) is not None:
        parsed = _parse_range(range_header, len(obj.data))
        if isinstance(parsed, Response):
            return parsed
        if parsed is not None:
            start, end = parsed
            body, status = obj.data[start : end + 1], 206
            headers["Content-Range"] = f"bytes {start}-{end}/{len(obj.data)}"
    if request.method == "GET":
        fake.stats.downloads[obj.key] += 1
    return Response(content=body, status_code=status, headers=headers, media_type=obj.content_type)


def _info(obj: StoredObject) -> dict[str, Any]:
    return {
        "id": obj.id,
        "name": obj.name,
        "version": obj.version,
        "bucket_id": obj.bucket_id,
        "size": len(obj.data),
        "content_type": obj.content_type,
        "cache_control": obj.cache_control,
        "etag": obj.etag,
        "metadata": obj.user_metadata,
        "last_modified": obj.updated_at.isoformat().replace("+00:00", "Z"),
        "created_at": obj.created_at.isoformat().replace("+00:00", "Z"),
    }


def _expires_in(body: Any) -> int | Response[Any]:
    value = body.get("expiresIn") if isinstance(body, dict) else None
    if isinstance(value, str) and value.strip().isdigit():  # Storage's ajv coerces numeric strings
        value = int(value)
    if value is None:
        return storage_error(
            400, "InvalidRequest", "Bad Request", "body must have required property 'expiresIn'"
        )
    if not isinstance(value, int) or isinstance(value, bool):
        return storage_error(400, "InvalidRequest", "Bad Request", "body/expiresIn must be integer")
    if value < 1:
        return storage_error(400, "InvalidRequest", "Bad Request", "body/expiresIn must be >= 1")
    return value


def _sign(fake: FakeSupabase, key: str, expires_in: int) -> str:
    now = int(time.time())
    token = jwt.encode(
        {"url": key, "scope": "download", "iat": now, "exp": now + expires_in}, fake.jwt_secret
    )
    return f"/object/sign/{urllib.parse.quote(key)}?token={token}"


async def _json_body(request: Request[Any, Any, Any]) -> Any:
    raw = await request.body()
    try:
        return json.loads(raw) if raw else {}
    except ValueError:
        return None


def _visible(fake: FakeSupabase, claims: Mapping[str, Any], bucket_id: str, name: str) -> StoredObject | None:
    obj = fake.get_object(bucket_id, name)
    bucket = fake.buckets.get(bucket_id)
    if obj is None or bucket is None or not (_is_service(claims) or bucket.public):
        return None
    return obj


def make_storage_handlers(fake: FakeSupabase) -> list[HTTPRouteHandler]:
    @route("/storage/v1/bucket", http_method=["GET", "POST"])
    async def buckets(request: Request[Any, Any, Any]) -> Response[Any]:
        claims = _claims(fake, request)
        if isinstance(claims, Response):
            return claims
        if request.method == "GET":
            visible = [b.to_json() for b in fake.buckets.values() if _is_service(claims) or b.public]
            return Response(content=visible)
        body = await _json_body(request)
        if not isinstance(body, dict) or not isinstance(body.get("name"), str):
            return storage_error(
                400, "InvalidRequest", "Bad Request", "body must have required property 'name'"
            )
        if not _is_service(claims):
            return _rls_denied()
        bucket_id = body.get("id") or body["name"]
        if bucket_id in fake.buckets:
            return storage_error(409, "BucketAlreadyExists", "Duplicate", "The resource already exists")
        fake.create_bucket(
            bucket_id,
            name=body["name"],
            public=bool(body.get("public", False)),
            file_size_limit=body.get("file_size_limit")
            if isinstance(body.get("file_size_limit"), int)
            else None,
            allowed_mime_types=body.get("allowed_mime_types"),
        )
        return Response(content={"name": body["name"]})

    @route("/storage/v1/bucket/{bucket_id:str}", http_method=["GET"])
    async def bucket(request: Request[Any, Any, Any], bucket_id: FromPath[str]) -> Response[Any]:
        claims = _claims(fake, request)
        if isinstance(claims, Response):
            return claims
        found = fake.buckets.get(bucket_id)
        if found is None or not (_is_service(claims) or found.public):
            return _no_such_bucket()
        return Response(content=found.to_json())

    @route("/storage/v1/object/{rest:path}", http_method=["GET", "HEAD", "POST", "PUT", "DELETE"])
    async def objects(request: Request[Any, Any, Any], rest: FromPath[str]) -> Response[Any]:
        parts = rest.strip("/").split("/")
        head, tail = parts[0], parts[1:]
        method = request.method
        if method in ("GET", "HEAD"):
            if head == "sign" and len(tail) >= 2:
                return signed_download(request, tail[0], "/".join(tail[1:]))
            if head == "public" and len(tail) >= 2:
                return public_download(request, tail[0], "/".join(tail[1:]))
            if head == "authenticated" and len(tail) >= 2:
                return authenticated_download(request, tail[0], "/".join(tail[1:]))
            if head == "info" and tail:
                if tail[0] in ("public", "authenticated") and len(tail) >= 3:
                    tail = tail[1:]
                if len(tail) >= 2:
                    return info(request, tail[0], "/".join(tail[1:]))
            if len(parts) >= 2 and method == "HEAD":
                return head_object(request, head, "/".join(tail))
            if len(parts) >= 2:
                return authenticated_download(request, head, "/".join(tail))
        if method == "POST" and head == "sign" and len(tail) >= 2:
            return await sign(request, tail[0], "/".join(tail[1:]))
        if method == "POST" and head == "sign" and len(tail) == 1:
            return await sign_many(request, tail[0])
        if (
            method in ("POST", "PUT")
            and len(parts) >= 2
            and head not in ("sign", "upload", "list", "move", "copy")
        ):
            return await upload(request, head, "/".join(tail))
        if method == "DELETE" and len(parts) == 1:
            return await remove(request, head)
        if head == "upload" and len(tail) >= 3 and tail[0] == "sign":
            if method == "POST":
                return sign_upload(request, tail[1], "/".join(tail[2:]))
            if method == "PUT":
                return await signed_upload(request, tail[1], "/".join(tail[2:]))
        if method == "POST" and head == "list" and len(tail) == 1:
            return await list_objects(request, tail[0])
        body = {
            "statusCode": 404,
            "error": "Not Found",
            "message": f"Route {method}:/object/{rest.strip('/')} not found",
        }
        return Response(content=body, status_code=404)

    def signed_download(request: Request[Any, Any, Any], bucket_id: str, name: str) -> Response[Any]:
        token = request.query_params.get("token")
        if not token:
            return storage_error(
                400, "InvalidRequest", "Bad Request", "querystring must have required property 'token'"
            )
        try:
            claims = jwt.decode(token, fake.jwt_secret, algorithms=["HS256"], options={"verify_exp": False})
        except jwt.InvalidSignatureError:
            return storage_error(400, "InvalidJWT", "InvalidJWT", "signature verification failed")
        except jwt.PyJWTError:
            return storage_error(400, "InvalidJWT", "InvalidJWT", "Invalid Compact JWS")
        exp = claims.get("exp")
        if claims.get("scope", "download") != "download" or "upsert" in claims or "owner" in claims:
            return storage_error(
                400, "InvalidSignature", "InvalidSignature", "Token is not scoped for download"
            )
        if claims.get("url") != f"{bucket_id}/{name}":
            return storage_error(400, "InvalidSignature", "InvalidSignature", "Invalid signature")
        if not isinstance(exp, int) or exp < time.time():
            return storage_error(400, "InvalidJWT", "InvalidJWT", '"exp" claim timestamp check failed')
        obj = fake.get_object(bucket_id, name)
        if obj is None:
            return _no_such_key()
        return _render(fake, request, obj, expires=exp)

    def public_download(request: Request[Any, Any, Any], bucket_id: str, name: str) -> Response[Any]:
        found = fake.buckets.get(bucket_id)
        if found is None or not found.public:
            return _no_such_bucket()
        obj = fake.get_object(bucket_id, name)
        return _no_such_key() if obj is None else _render(fake, request, obj)

    def authenticated_download(request: Request[Any, Any, Any], bucket_id: str, name: str) -> Response[Any]:
        claims = _claims(fake, request)
        if isinstance(claims, Response):
            return claims
        obj = _visible(fake, claims, bucket_id, name)
        return _no_such_key() if obj is None else _render(fake, request, obj)

    def head_object(request: Request[Any, Any, Any], bucket_id: str, name: str) -> Response[Any]:
        # Storage lets an invalid JWT through here (allowInvalidJwt) and then treats the caller as anon.
        token = request.headers.get("authorization", "")[7:]
        try:
            claims = verify_token(token, fake.jwt_secret, require_role_and_exp=False)
        except TokenError:
            claims = {"role": "anon"}
        found = fake.buckets.get(bucket_id)
        if found is None or not (found.public or _is_service(claims)):
            return _no_such_bucket()
        obj = _visible(fake, claims, bucket_id, name)
        return _no_such_key() if obj is None else _render(fake, request, obj)

    def info(request: Request[Any, Any, Any], bucket_id: str, name: str) -> Response[Any]:
        claims = _claims(fake, request)
        if isinstance(claims, Response):
            return claims
        if bucket_id not in fake.buckets:
            return _no_such_bucket()
        obj = _visible(fake, claims, bucket_id, name)
        if obj is None:
            return _no_such_key()
        headers = {
            "ETag": obj.etag,
            "Last-Modified": _http_date(obj.updated_at),
            "Cache-Control": obj.cache_control,
        }
        return Response(content=_info(obj), headers=headers)

    async def sign(request: Request[Any, Any, Any], bucket_id: str, name: str) -> Response[Any]:
        claims = _claims(fake, request)
        if isinstance(claims, Response):
            return claims
        fake.stats.sign_calls[f"{bucket_id}/{name}"] += 1
        expires_in = _expires_in(await _json_body(request))
        if isinstance(expires_in, Response):
            return expires_in
        obj = _visible(fake, claims, bucket_id, name)
        if obj is None:
            return _no_such_key()
        return Response(content={"signedURL": _sign(fake, obj.key, expires_in)})

    async def sign_many(request: Request[Any, Any, Any], bucket_id: str) -> Response[Any]:
        claims = _claims(fake, request)
        if isinstance(claims, Response):
            return claims
        body = await _json_body(request)
        expires_in = _expires_in(body)
        if isinstance(expires_in, Response):
            return expires_in
        paths = body.get("paths") if isinstance(body, dict) else None
        if not isinstance(paths, list) or not all(isinstance(p, str) for p in paths):
            return storage_error(
                400, "InvalidRequest", "Bad Request", "body must have required property 'paths'"
            )
        results = []
        for path in paths:
            fake.stats.sign_calls[f"{bucket_id}/{path}"] += 1
            obj = _visible(fake, claims, bucket_id, path)
            results.append(
                {"error": None, "path": path, "signedURL": _sign(fake, obj.key, expires_in)}
                if obj is not None
                else {
                    "error": "Either the object does not exist or you do not have access to it",
                    "path": path,
                    "signedURL": None,
                }
            )
        return Response(content=results)

    async def upload(request: Request[Any, Any, Any], bucket_id: str, name: str) -> Response[Any]:
        claims = _claims(fake, request)
        if isinstance(claims, Response):
            return claims
        found = fake.buckets.get(bucket_id)
        if found is None:
            return _no_such_bucket()
        if not _is_service(claims):
            return _rls_denied()
        upsert = request.method == "PUT" or request.headers.get("x-upsert") == "true"
        return await store(request, found, name, upsert=upsert)

    async def store(request: Request[Any, Any, Any], found: Any, name: str, *, upsert: bool) -> Response[Any]:
        """The body (multipart's file part, whatever its field name, or a raw body) as the object."""
        bucket_id = found.id
        existing = fake.get_object(bucket_id, name)
        if existing is not None and not upsert:
            return storage_error(409, "KeyAlreadyExists", "Duplicate", "The resource already exists")
        content_type = request.headers.get("content-type", "")
        user_metadata: dict[str, Any] | None = None
        if content_type.startswith("multipart/form-data"):
            form = await request.form()
            file = form.get("file")
            if not isinstance(file, UploadFile):  # supabase-js names the file part '' on signed uploads
                file = next((v for v in form.values() if isinstance(v, UploadFile)), None)
            if not isinstance(file, UploadFile):
                return storage_error(400, "InvalidRequest", "Bad Request", "No content provided")
            data = await file.read()
            mimetype = file.content_type or "application/octet-stream"
            cache_seconds = str(form.get("cacheControl") or "no-cache")
            if isinstance(raw_meta := form.get("metadata"), str):
                user_metadata = json.loads(raw_meta)
        else:
            data = await request.body()
            mimetype = content_type or "application/octet-stream"
            cache_seconds = request.headers.get("cache-control") or "no-cache"
        if found.file_size_limit is not None and len(data) > found.file_size_limit:
            return storage_error(
                413, "EntityTooLarge", "Payload too large", "The object exceeded the maximum allowed size"
            )
        if found.allowed_mime_types and mimetype.split(";")[0].strip() not in found.allowed_mime_types:
            return storage_error(
                415, "InvalidMimeType", "invalid_mime_type", f"mime type {mimetype} is not supported"
            )
        cache_control = f"max-age={cache_seconds}" if cache_seconds.isdigit() else cache_seconds
        obj = StoredObject(
            bucket_id=bucket_id,
            name=name,
            data=data,
            content_type=mimetype,
            cache_control=cache_control,
            user_metadata=user_metadata,
        )
        if existing is not None:
            obj.id, obj.created_at = existing.id, existing.created_at
        fake.objects[obj.key] = obj
        fake.stats.uploads[obj.key] += 1
        return Response(content={"Id": obj.id, "Key": obj.key})

    async def remove(request: Request[Any, Any, Any], bucket_id: str) -> Response[Any]:
        claims = _claims(fake, request)
        if isinstance(claims, Response):
            return claims
        body = await _json_body(request)
        prefixes = body.get("prefixes") if isinstance(body, dict) else None
        if not isinstance(prefixes, list):
            return storage_error(
                400, "InvalidRequest", "Bad Request", "body must have required property 'prefixes'"
            )
        removed = []
        for name in prefixes:
            obj = _visible(fake, claims, bucket_id, str(name)) if _is_service(claims) else None
            if obj is not None:
                del fake.objects[obj.key]
                removed.append({**_info(obj), "bucket_id": bucket_id})
        return Response(content=removed)

    def sign_upload(request: Request[Any, Any, Any], bucket_id: str, name: str) -> Response[Any]:
        """`POST /object/upload/sign/{bucket}/{path}` (service key): a token that lets its holder upload that
        one object for two hours, as storage-api's createSignedUploadUrl."""
        claims = _claims(fake, request)
        if isinstance(claims, Response):
            return claims
        if not _is_service(claims):
            return _rls_denied()
        if bucket_id not in fake.buckets:
            return _no_such_bucket()
        token = jwt.encode(
            {
                "url": f"{bucket_id}/{name}",
                "upsert": request.headers.get("x-upsert") == "true",
                "iat": int(time.time()),
                "exp": int(time.time()) + 7200,
            },
            fake.jwt_secret,
            algorithm="HS256",
        )
        return Response(
            content={"url": f"/object/upload/sign/{bucket_id}/{name}?token={token}", "token": token}
        )

    async def signed_upload(request: Request[Any, Any, Any], bucket_id: str, name: str) -> Response[Any]:
        """`PUT /object/upload/sign/{bucket}/{path}?token=` (supabase-js uploadToSignedUrl): the token is the
        authorisation, for exactly that object."""
        refused = _gateway_key_error(fake, request)
        if refused is not None:
            return refused
        try:
            claims = jwt.decode(request.query_params.get("token", ""), fake.jwt_secret, algorithms=["HS256"])
        except jwt.ExpiredSignatureError:
            return storage_error(400, "InvalidJWT", "InvalidJWT", '"exp" claim timestamp check failed')
        except jwt.PyJWTError:
            return storage_error(400, "InvalidJWT", "InvalidJWT", "Invalid Compact JWS")
        if claims.get("url") != f"{bucket_id}/{name}":
            return storage_error(400, "InvalidSignature", "InvalidSignature", "Invalid signature")
        found = fake.buckets.get(bucket_id)
        if found is None:
            return _no_such_bucket()
        return await store(request, found, name, upsert=bool(claims.get("upsert")))

    async def list_objects(request: Request[Any, Any, Any], bucket_id: str) -> Response[Any]:
        """`POST /object/list/{bucket}` `{"prefix", "limit"?, "offset"?}`: the objects directly under the
        prefix (as folder entries, with a null id, for deeper ones), sorted by name, as storage-api lists."""
        claims = _claims(fake, request)
        if isinstance(claims, Response):
            return claims
        if bucket_id not in fake.buckets:
            return _no_such_bucket()
        body = await _json_body(request)
        if not isinstance(body, dict) or not isinstance(body.get("prefix"), str):
            return storage_error(
                400, "InvalidRequest", "Bad Request", "body must have required property 'prefix'"
            )
        prefix = body["prefix"].strip("/")
        folder = f"{prefix}/" if prefix else ""
        entries: dict[str, dict[str, Any]] = {}
        for obj in fake.objects.values():
            if obj.bucket_id != bucket_id or not obj.name.startswith(folder):
                continue
            if not _is_service(claims) and _visible(fake, claims, bucket_id, obj.name) is None:
                continue
            rest = obj.name[len(folder) :]
            name, _, deeper = rest.partition("/")
            if deeper:
                entries.setdefault(
                    name,
                    {
                        "name": name,
                        "id": None,
                        "updated_at": None,
                        "created_at": None,
                        "last_accessed_at": None,
                        "metadata": None,
                    },
                )
                continue
            stamp = obj.updated_at.isoformat().replace("+00:00", "Z")
            entries[name] = {
                "name": name,
                "id": obj.id,
                "updated_at": stamp,
                "created_at": obj.created_at.isoformat().replace("+00:00", "Z"),
                "last_accessed_at": stamp,
                "metadata": {
                    "eTag": obj.etag,
                    "size": len(obj.data),
                    "mimetype": obj.content_type,
                    "cacheControl": obj.cache_control,
                    "lastModified": stamp,
                    "contentLength": len(obj.data),
                    "httpStatusCode": 200,
                },
            }
        offset, limit = int(body.get("offset") or 0), int(body.get("limit") or 100)
        return Response(content=[entries[k] for k in sorted(entries)][offset : offset + limit])

    return [buckets, bucket, objects]
