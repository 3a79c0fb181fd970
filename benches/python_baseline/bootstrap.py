"""A minimal Lambda runtime for handler.py, on the standard library only.

It imports the handler (its init), then serves events from the Runtime API
at AWS_LAMBDA_RUNTIME_API: GET .../invocation/next, call handler(event,
context), POST .../response or .../error. An exception during import is
posted to .../init/error. It stops after MAX_INVOCATIONS events; the
benchmark kills it after the first.
"""

import http.client
import json
import os
import sys
import traceback

API_PREFIX = "/2018-06-01/runtime"
MAX_INVOCATIONS = 1000


class Context:
    """The fields of the Lambda context object that handler.py reads."""

    def __init__(self, headers):
        self.aws_request_id = headers["Lambda-Runtime-Aws-Request-Id"]
        self.invoked_function_arn = headers["Lambda-Runtime-Invoked-Function-Arn"]
        self.deadline_ms = int(headers["Lambda-Runtime-Deadline-Ms"])
        self.function_name = os.environ.get("AWS_LAMBDA_FUNCTION_NAME", "")
        self.memory_limit_in_mb = os.environ.get("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "")


def post(connection, path, body, headers=None):
    connection.request("POST", f"{API_PREFIX}{path}", body=body.encode(), headers=headers or {})
    connection.getresponse().read()


def error_body(error):
    return json.dumps({
        "errorType": type(error).__name__,
        "errorMessage": str(error),
        "stackTrace": traceback.format_exception(error),
    })


def main():
    host = os.environ["AWS_LAMBDA_RUNTIME_API"]
    connection = http.client.HTTPConnection(host)
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    try:
        import handler
    except Exception as error:
        post(connection, "/init/error", error_body(error), {"Lambda-Runtime-Function-Error-Type": "Runtime.ImportError"})
        raise

    for _ in range(MAX_INVOCATIONS):
        connection.request("GET", f"{API_PREFIX}/invocation/next")
        response = connection.getresponse()
        event = json.loads(response.read())
        context = Context(response.headers)
        try:
            result = handler.handler(event, context)
        except Exception as error:
            post(connection, f"/invocation/{context.aws_request_id}/error", error_body(error),
                 {"Lambda-Runtime-Function-Error-Type": "Runtime.HandlerError"})
            continue
        post(connection, f"/invocation/{context.aws_request_id}/response", json.dumps(result, default=str))


if __name__ == "__main__":
    main()
