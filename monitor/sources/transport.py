"""The aiohttp transport under our httpx client, with two faults of ``httpx_aiohttp`` 0.2 corrected.

1. **Redirect hops sent a request body.** httpx builds a same-method redirect request with the first
   request's *stream object* (``Client._redirect_stream``). A request built from a stream has not been read,
   so ``AiohttpTransport`` passes that stream to aiohttp as ``data``, and aiohttp sends the GET with
   ``Transfer-Encoding: chunked`` and an empty chunked body (``0\\r\\n\\r\\n``). A keep-alive server that does
   not expect a body on a GET (most) reads that ``0`` as the start of the next request, so the *second*
   redirect on the connection fails ("Can not write request body", or a 400 "Bad request syntax ('0')" whose
   page aiohttp then quotes as a bad status line). We read the stream first: an empty body then goes out as
   no body at all, exactly as plain httpx sends it.
2. **A refused connection was called a timeout.** ``httpx_aiohttp`` maps exceptions by the first matching
   base class, and ``aiohttp.ClientConnectionError -> httpx.ConnectTimeout`` wins over
   ``ClientConnectorError -> httpx.ConnectError``; so did a server closing the connection. We map aiohttp's
   own exception to the httpx class that says what happened, in words ("connection refused by host:port"),
   and never quote bytes the server sent (a malformed answer may be any page of any host).

A URL's ``user:password@`` goes to the server as basic auth (httpx sets the header) and is stripped from the
URL handed to aiohttp, which refuses a URL holding credentials next to an Authorization header.
"""

from __future__ import annotations

import errno
from collections.abc import AsyncIterator

import aiohttp
import httpx
from httpx_aiohttp import AiohttpTransport


def _refused(os_error: OSError) -> bool:
    return isinstance(os_error, ConnectionRefusedError) or os_error.errno == errno.ECONNREFUSED


def _connector_message(e: aiohttp.ClientConnectorError) -> str:
    where = f"{e.host}:{e.port}"
    if isinstance(e, aiohttp.ClientConnectorDNSError):
        return f"cannot resolve host {e.host!r}"
    if _refused(e.os_error) or f"[Errno {errno.ECONNREFUSED}]" in str(e.os_error):  # several addresses, all refused
        return f"connection refused by {where}"
    if isinstance(e, aiohttp.ClientSSLError):
        return f"TLS failed with {where}: {e.os_error}"
    return f"cannot connect to {where}: {e.os_error.strerror or e.os_error}"


def map_aiohttp_error(cause: BaseException, request: httpx.Request) -> httpx.TransportError | None:
    """The httpx exception that names what aiohttp saw (None: not one of aiohttp's)."""
    if isinstance(cause, aiohttp.ClientConnectorError):
        return httpx.ConnectError(_connector_message(cause), request=request)
    if isinstance(cause, aiohttp.ConnectionTimeoutError):
        return httpx.ConnectTimeout("timed out connecting", request=request)
    if isinstance(cause, aiohttp.SocketTimeoutError | aiohttp.ServerTimeoutError):
        return httpx.ReadTimeout("timed out waiting for the answer", request=request)
    if isinstance(cause, aiohttp.ServerDisconnectedError):
        return httpx.RemoteProtocolError("server closed the connection without answering", request=request)
    if isinstance(cause, aiohttp.ClientResponseError):
        return httpx.RemoteProtocolError(f"malformed HTTP answer ({cause.status})", request=request)
    if isinstance(cause, aiohttp.ClientPayloadError):
        return httpx.ReadError("the answer's body was cut off or malformed", request=request)
    if isinstance(cause, aiohttp.ClientOSError):
        return httpx.WriteError(f"connection failed: {cause.strerror or 'no detail'}", request=request)
    if isinstance(cause, aiohttp.ClientConnectionError):
        return httpx.NetworkError(f"connection failed: {type(cause).__name__}", request=request)
    return None


def _mapped(e: Exception, request: httpx.Request) -> Exception:
    """``e`` as the httpx exception that names it; aiohttp's own exception stays the ``__cause__``."""
    cause = e.__cause__ if isinstance(e, httpx.HTTPError) and e.__cause__ is not None else e
    return map_aiohttp_error(cause, request) or e


class _Body(httpx.AsyncByteStream):
    """The response body, with aiohttp's errors while reading it named like those of the request."""

    def __init__(self, inner: httpx.AsyncByteStream, request: httpx.Request) -> None:
        self.inner, self.request = inner, request

    async def __aiter__(self) -> AsyncIterator[bytes]:
        try:
            async for chunk in self.inner:
                yield chunk
        except (httpx.HTTPError, aiohttp.ClientError) as e:
            mapped = _mapped(e, self.request)
            if mapped is e:
                raise
            raise mapped from e.__cause__ or e

    async def aclose(self) -> None:
        await self.inner.aclose()


class Transport(AiohttpTransport):
    """``AiohttpTransport`` with the redirect body, the exception names and URL credentials corrected."""

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        await request.aread()  # a redirect hop's stream becomes bytes; b"" is then sent as no body at all
        if request.url.userinfo:  # httpx already turned it into an Authorization header
            request.url = request.url.copy_with(username=None, password=None)
        try:
            response = await super().handle_async_request(request)
        except (httpx.HTTPError, aiohttp.ClientError) as e:
            mapped = _mapped(e, request)
            if mapped is e:
                raise
            raise mapped from e.__cause__ or e
        assert isinstance(response.stream, httpx.AsyncByteStream)
        response.stream = _Body(response.stream, request)
        return response
