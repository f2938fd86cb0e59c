//! The run as a stream ([`RunStream`] of [`RunEvent`]s), driven by polling: the model
//! call of each step is a [`ChatStream`], the calls of a step run together in a
//! `FuturesUnordered`, and nothing is spawned, so that dropping the stream drops the
//! request and the running tools with it.

use std::collections::VecDeque;
use std::fmt;
use std::pin::Pin;
use std::task::{Context, Poll};

use futures::future::BoxFuture;
use futures::stream::{BoxStream, FuturesUnordered};
use futures::{FutureExt, Stream, StreamExt};
use tokio::time::Instant;

use crate::chunk::{Chunk, FinishReason};
use crate::error::{Error, ErrorKind, Result};
use crate::reply::{ChatReply, Collector};
use crate::request::{Message, ToolChoice};
use crate::stream::ChatStream;

use super::catalog::Catalog;
use super::output::ToolResult;
use super::run::Run;
use super::steps::{summed_usage, RunReply, Step};

/// One item of a [`RunStream`], in the order things happen. A run is, per step,
/// `StepStart`, the model's chunks, the results of the calls it made (as each
/// completes), `StepEnd`; then `Done`. It ends with `Done`, or with one `Err`.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum RunEvent {
    /// A model call begins: the step's number, from 1.
    StepStart(usize),
    /// A chunk of the model's output, as it arrives: text, reasoning, tool calls
    /// (complete ones as [`Chunk::ToolCall`]), the step's finish.
    Chunk(Chunk),
    /// A call's result, as it completes (the calls of one step run together and
    /// complete in any order).
    ToolResult(ToolResult),
    /// The step is over.
    StepEnd(Box<Step>),
    /// The run is over: the last item.
    Done(Box<RunReply>),
}

/// A run, live: [`RunEvent`]s as they happen. Dropping it cancels the model request
/// and the tools that are running.
pub struct RunStream<'a> {
    inner: BoxStream<'a, Result<RunEvent>>,
}

impl fmt::Debug for RunStream<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RunStream").finish_non_exhaustive()
    }
}

impl Stream for RunStream<'_> {
    type Item = Result<RunEvent>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        self.inner.poll_next_unpin(cx)
    }
}

impl<'a> Run<'a> {
    /// The run, live. Nothing happens until it is polled.
    pub fn stream(self) -> RunStream<'a> {
        let driver = Driver::new(self);
        let inner = futures::stream::unfold(driver, |mut driver| async move {
            let item = driver.next().await?;
            Some((item, driver))
        })
        .boxed();
        RunStream { inner }
    }

    /// The whole run, collected.
    ///
    /// # Errors
    /// A model call's error (with what it had delivered attached), or `timeout` when
    /// the request's deadline passed. A failing tool is no error: the model gets it.
    pub async fn reply(self) -> Result<RunReply> {
        let mut stream = self.stream();
        while let Some(item) = stream.next().await {
            if let RunEvent::Done(reply) = item? {
                return Ok(*reply);
            }
        }
        Err(Error::new(
            ErrorKind::Protocol,
            "the run ended without its reply",
        ))
    }
}

/// Where the run is.
enum Phase {
    /// The next model call is to be made.
    Ask,
    /// The model is answering (boxed: a stream and its collector are large, and a
    /// run moves its phase at every step).
    Model(Box<Answering>),
    /// The step's calls are running.
    Tools {
        running: FuturesUnordered<BoxFuture<'static, (usize, ToolResult)>>,
        results: Vec<Option<ToolResult>>,
        reply: Box<ChatReply>,
    },
    Over,
}

/// A model call under way.
struct Answering {
    stream: ChatStream,
    collector: Collector,
    catalog: Catalog,
}

struct Driver<'a> {
    run: Run<'a>,
    started: Instant,
    deadline: Option<Instant>,
    steps: Vec<Step>,
    cost_usd_micros: u64,
    phase: Phase,
    ready: VecDeque<RunEvent>,
}

impl<'a> Driver<'a> {
    fn new(run: Run<'a>) -> Driver<'a> {
        let started = Instant::now();
        let deadline = run.request.timeouts.clamped().deadline.map(|d| started + d);
        Driver {
            run,
            started,
            deadline,
            steps: Vec::new(),
            cost_usd_micros: 0,
            phase: Phase::Ask,
            ready: VecDeque::new(),
        }
    }

    /// The next item: a ready event, or as much work as makes one.
    async fn next(&mut self) -> Option<Result<RunEvent>> {
        loop {
            if let Some(event) = self.ready.pop_front() {
                return Some(Ok(event));
            }
            if matches!(self.phase, Phase::Over) {
                return None;
            }
            let advanced = match self.deadline {
                Some(at) => tokio::time::timeout_at(at, self.advance())
                    .await
                    .unwrap_or_else(|_| Err(self.past_deadline())),
                None => self.advance().await,
            };
            if let Err(error) = advanced {
                self.phase = Phase::Over;
                return Some(Err(error));
            }
        }
    }

    fn past_deadline(&self) -> Error {
        let limit = self.run.request.timeouts.deadline.unwrap_or_default();
        Error::new(
            ErrorKind::Timeout,
            format!(
                "the tool loop passed the request's deadline of {} in step {}: raise the deadline (Timeouts::deadline, --timeout), or lower max_steps",
                crate::duration::fmt_duration(limit),
                self.steps.len() + 1
            ),
        )
    }

    /// One unit of work: a model call started, a chunk, a call's result, a step ended.
    async fn advance(&mut self) -> Result<()> {
        match std::mem::replace(&mut self.phase, Phase::Over) {
            Phase::Ask => self.ask().await,
            Phase::Model(mut answering) => match answering.stream.next().await {
                Some(Ok(chunk)) => {
                    let collector = &mut answering.collector;
                    collector
                        .push(&chunk)
                        .map_err(|e| collector.attach_partial(e))?;
                    self.ready.push_back(RunEvent::Chunk(chunk));
                    self.phase = Phase::Model(answering);
                }
                Some(Err(error)) => return Err(answering.collector.attach_partial(error)),
                None => {
                    let Answering {
                        collector, catalog, ..
                    } = *answering;
                    self.answered(collector.finish()?, &catalog);
                }
            },
            Phase::Tools {
                mut running,
                mut results,
                reply,
            } => match running.next().await {
                Some((index, result)) => {
                    if let Some(slot) = results.get_mut(index) {
                        *slot = Some(result.clone());
                    }
                    self.ready.push_back(RunEvent::ToolResult(result));
                    self.phase = Phase::Tools {
                        running,
                        results,
                        reply,
                    };
                }
                None => self.step_done(*reply, results.into_iter().flatten().collect()),
            },
            Phase::Over => {}
        }
        Ok(())
    }

    /// Makes the next model call, with the tools as they stand.
    async fn ask(&mut self) {
        let step = self.steps.len() + 1;
        let catalog = Catalog::gather(self.run.tools).await;
        let mut request = self.run.request.clone();
        request
            .tools
            .retain(|own| catalog.tools().all(|t| t.name != own.name));
        request.tools.extend(catalog.tools().cloned());
        // A required call asked for again would be made again, until the last step.
        if step > 1
            && matches!(
                request.tool_choice,
                Some(ToolChoice::Required | ToolChoice::Tool(_))
            )
        {
            request.tool_choice = None;
        }
        if let Some(at) = self.deadline {
            request.timeouts.deadline = Some(at.saturating_duration_since(Instant::now()));
        }
        let stream = self.run.llm.stream_chat(request);
        let collector = Collector::for_stream(&stream);
        self.phase = Phase::Model(Box::new(Answering {
            stream,
            collector,
            catalog,
        }));
        self.ready.push_back(RunEvent::StepStart(step));
    }

    /// The model has answered: the run is over, or the calls it made start.
    fn answered(&mut self, reply: ChatReply, catalog: &Catalog) {
        let step = self.steps.len() + 1;
        self.cost_usd_micros = self.cost_usd_micros.saturating_add(reply.usage.usd_micros);
        if reply.tool_calls.is_empty() {
            let reason = reply.finish_reason.clone();
            return self.finish(reply, reason);
        }
        if step >= self.run.max_steps {
            return self.finish(reply, FinishReason::MaxSteps);
        }
        if self
            .run
            .max_cost_usd_micros
            .is_some_and(|ceiling| self.cost_usd_micros >= ceiling)
        {
            return self.finish(reply, FinishReason::MaxCost);
        }
        let running = FuturesUnordered::new();
        for (index, call) in reply.tool_calls.iter().enumerate() {
            let result = catalog.call(call, self.run.approver.as_ref());
            running.push(result.map(move |result| (index, result)).boxed());
        }
        self.phase = Phase::Tools {
            running,
            results: vec![None; reply.tool_calls.len()],
            reply: Box::new(reply),
        };
    }

    /// The calls have run: their results join the conversation, and the next step is
    /// asked.
    fn step_done(&mut self, reply: ChatReply, results: Vec<ToolResult>) {
        let mut step = Step::of(&reply);
        step.tool_results = results;
        let conversation = &mut self.run.request.messages;
        conversation.push(reply.into_message());
        for result in &step.tool_results {
            // Most APIs have no error flag on a result: the text says it.
            let content = if result.is_error {
                format!("error: {}", result.content)
            } else {
                result.content.clone()
            };
            conversation.push(Message::tool_result(&result.id, &result.name, content));
        }
        self.ready
            .push_back(RunEvent::StepEnd(Box::new(step.clone())));
        self.steps.push(step);
        self.phase = Phase::Ask;
    }

    /// The run is over with `reason`: the last step, then the run's reply.
    fn finish(&mut self, mut reply: ChatReply, reason: FinishReason) {
        let step = Step::of(&reply);
        self.ready
            .push_back(RunEvent::StepEnd(Box::new(step.clone())));
        self.steps.push(step);
        let latency_ms = self.started.elapsed().as_micros() as f64 / 1000.0;
        reply.finish_reason = reason;
        reply.usage = summed_usage(&self.steps, latency_ms);
        let steps = std::mem::take(&mut self.steps);
        self.ready
            .push_back(RunEvent::Done(Box::new(RunReply { reply, steps })));
        self.phase = Phase::Over;
    }
}
