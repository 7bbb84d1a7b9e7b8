"""Errors that services raise; the edges map them to HTTP statuses and exit codes.

Every message names the problem and, where there is one, the fix.
"""

from __future__ import annotations


class ServiceError(Exception):
    status = 500


class BadRequest(ServiceError):
    status = 400


class Unauthorized(ServiceError):
    status = 401


class Forbidden(ServiceError):
    status = 403


class NotFound(ServiceError):
    status = 404


class Conflict(ServiceError):
    status = 409


class PreconditionFailed(ServiceError):
    status = 412
